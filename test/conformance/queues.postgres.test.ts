import { queuesConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';

const db = new TestDatabase('cq').hooks();
queuesConformance('postgres', ({ name, concurrency, config, queues }) => pgApp(db, { name, concurrency, config, queues }), undefined, { sharedQueue: true, sharedEvents: true });
