import { brokerConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cb').hooks();
brokerConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }), undefined, { sharedQueue: true, sharedEvents: true });
