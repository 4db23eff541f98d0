/**
 * The TaskManager suite on the PostgreSQL engine (127.0.0.1:5432, or QTASKS_PG_URL).
 */
import { describeManager } from 'qtasks/conformance';
import { postgresOpsEngine } from './postgres-engine';

describeManager(postgresOpsEngine('ops'));
