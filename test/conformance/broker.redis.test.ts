import { brokerConformance } from './broker.cases';
import { redisConformanceEngine } from '../redis/redis-factory';

const engine = redisConformanceEngine('cb');
beforeAll(engine.check);
brokerConformance('redis', engine.factory, engine.cleanup, { sharedQueue: true });
