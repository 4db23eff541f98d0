/**
 * The poison conformance suite on the PostgreSQL engine: rows are corrupted with plain SQL on the
 * engine's tables, as an operator, a bug or another version could leave them.
 */
import { poisonConformance } from 'qtasks/conformance';
import { pgApp, TestDatabase } from '../postgres/pg-support';
import { pgCorrupt, pgCorruptState } from '../postgres/pg-poison';

const db = new TestDatabase('cp').hooks();

poisonConformance('postgres', ({ name, concurrency, config }) => pgApp(db, { name, concurrency, config }), {
  corrupt: (app, id, how) => pgCorrupt(db, app, id, how),
  corruptState: (app, state, key, json) => pgCorruptState(db, app, state, key, json),
  corruptWorker: async (app, workerId) => {
    await db.query(`UPDATE qtasks.workers SET info = '{"id":' WHERE queue = $1 AND id = $2`, [app.name, workerId]);
  },
}, undefined, { sharedQueue: true });
