import { storageConformance } from './storage.cases';
import { redisConformanceEngine } from '../redis/redis-factory';

const engine = redisConformanceEngine('cs');
beforeAll(engine.check);
storageConformance('redis', engine.factory, engine.cleanup, { sharedQueue: true });
