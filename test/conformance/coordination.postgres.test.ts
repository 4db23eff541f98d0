/** The coordination conformance suite (rate limit, timer lock) on the PostgreSQL engine. */
import { coordinationConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cco').hooks();
coordinationConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }), undefined, { sharedQueue: true });
