/**
 * The TaskManager suite on the Redis engine (REDIS_URL, default redis://127.0.0.1:6379).
 */
import { describeManager } from './manager.cases';
import { assertRedisReachable, redisEngine } from './redis-engine';

beforeAll(assertRedisReachable);

describeManager(redisEngine);
