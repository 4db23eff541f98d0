import { brokerConformance } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { rabbitPgEngine } from '../rabbitmq/rabbit-support';

const db = new TestDatabase('cbrp').hooks();
const engine = rabbitPgEngine(db, 'cbrp');
beforeAll(engine.check);
brokerConformance('rabbitmq + postgres storage', engine.factory, engine.cleanup, { sharedQueue: true, sharedEvents: true });
