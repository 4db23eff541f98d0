import { brokerConformance } from 'qtasks/conformance';
import { rabbitRedisEngine } from '../rabbitmq/rabbit-support';

const engine = rabbitRedisEngine('cbr');
beforeAll(engine.check);
brokerConformance('rabbitmq + redis storage', engine.factory, engine.cleanup, { sharedQueue: true, sharedEvents: true });
