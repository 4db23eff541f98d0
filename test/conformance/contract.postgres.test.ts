/** The contract conformance suite on the PostgreSQL engine. */
import { contractConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cc').hooks();
contractConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }), undefined, { sharedQueue: true });
