import { pgApp, TestDatabase } from '../postgres/pg-support';
import { workflowCases } from './workflow.cases';

const db = new TestDatabase('wf').hooks();
workflowCases('postgres (a producer that never starts, a worker app)', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }), undefined, true);
