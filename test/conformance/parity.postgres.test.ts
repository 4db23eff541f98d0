/** The parity conformance suite on the PostgreSQL engine. */
import { parityConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cp').hooks();
parityConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }));
