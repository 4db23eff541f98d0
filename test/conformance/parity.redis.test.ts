/** The parity conformance suite on the Redis engine. */
import { parityConformance } from './parity.cases';
import { redisConformanceEngine } from '../redis/redis-factory';

const engine = redisConformanceEngine('cp');
beforeAll(engine.check);
parityConformance('redis', engine.factory, engine.cleanup);
