/**
 * The published broker and parity suites (retention by count and age included) on a RabbitMQ
 * broker paired with the PostgreSQL storage, in a database of its own.
 */
import { brokerConformance, parityConformance } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { rabbitPgEngine } from '../rabbitmq/rabbit-support';

const db = new TestDatabase('cbrp').hooks();
const engine = rabbitPgEngine(db, 'cbrp');
beforeAll(engine.check);
const title = 'rabbitmq + postgres storage';
brokerConformance(title, engine.factory, engine.cleanup, { sharedQueue: true, sharedEvents: true });
parityConformance(title, engine.factory, engine.cleanup);
