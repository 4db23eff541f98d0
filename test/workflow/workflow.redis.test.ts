import { redisConformanceEngine } from '../redis/redis-factory';
import { workflowCases } from './workflow.cases';

const engine = redisConformanceEngine('wf');
beforeAll(engine.check);
workflowCases('redis (a producer that never starts, a worker app)', engine.factory, engine.cleanup, true);
