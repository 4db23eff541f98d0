import { storageConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cs').hooks();
storageConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }), undefined, { sharedQueue: true });
