/**
 * The web view's HTTP API on the Redis engine (REDIS_URL, default redis://127.0.0.1:6379).
 */
import { assertRedisReachable, redisEngine } from './redis-engine';
import { describeWebApi } from './web-api.cases';

beforeAll(assertRedisReachable);

describeWebApi(redisEngine);
