/** The contract conformance suite on the Redis engine. */
import { contractConformance } from './contract.cases';
import { redisConformanceEngine } from '../redis/redis-factory';

const engine = redisConformanceEngine('cc');
beforeAll(engine.check);
contractConformance('redis', engine.factory, engine.cleanup, { sharedQueue: true });
