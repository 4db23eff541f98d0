/** The coordination conformance suite (rate limit, timer lock) on the RabbitMQ broker with PostgreSQL storage. */
import { coordinationConformance } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { rabbitPgEngine } from '../rabbitmq/rabbit-support';

const db = new TestDatabase('ccorp').hooks();
const engine = rabbitPgEngine(db, 'ccorp');
beforeAll(engine.check);
coordinationConformance('rabbitmq + postgres storage', engine.factory, engine.cleanup, { sharedQueue: true });
