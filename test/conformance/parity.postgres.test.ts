/** The parity conformance suite on the PostgreSQL engine. */
import { parityConformance } from './parity.cases';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cp').hooks();
parityConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }));
