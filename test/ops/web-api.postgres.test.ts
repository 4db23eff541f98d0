/**
 * The web view's HTTP API on the PostgreSQL engine (127.0.0.1:5432, or QTASKS_PG_URL).
 */
import { describeWebApi } from './web-api.cases';
import { postgresOpsEngine } from './postgres-engine';

describeWebApi(postgresOpsEngine('web'));
