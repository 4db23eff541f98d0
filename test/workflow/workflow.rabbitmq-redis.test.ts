import { rabbitRedisEngine } from '../rabbitmq/rabbit-support';
import { workflowCases } from './workflow.cases';

const engine = rabbitRedisEngine('wfr');
beforeAll(engine.check);
workflowCases('rabbitmq + redis storage (a producer that never starts, a worker app)', engine.factory, engine.cleanup, true);
