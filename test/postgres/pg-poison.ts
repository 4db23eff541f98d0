/**
 * The poison suite's hooks for the PostgreSQL storage: rows corrupted with plain SQL on its tables,
 * as an operator, a bug or another version could leave them (used by the PostgreSQL engine and by
 * the RabbitMQ broker paired with the PostgreSQL storage).
 */
import type { QTasks } from 'qtasks';
import type { Corruption } from 'qtasks/conformance';
import type { TestDatabase } from './pg-support';

/** Arguments nested `depth` levels, as JSON. */
const deepJson = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Corrupts the stored record `id` of `app`'s queue in `db`. */
export async function pgCorrupt(db: TestDatabase, app: QTasks, id: string, how: Corruption): Promise<void> {
  const where = 'WHERE queue = $1 AND id = $2';
  const p = [app.name, id];
  const [row] = await db.query<{ data: string }>(`SELECT data FROM qtasks.tasks ${where}`, p);
  if (row === undefined) throw new Error(`No stored record ${id}`);
  switch (how) {
    case 'body':
      await db.query(`UPDATE qtasks.tasks SET data = $3 ${where}`, [...p, row.data.slice(0, Math.floor(row.data.length / 2))]);
      break;
    case 'no-id':
      // the id is the row's key: a row without one is a row whose id column was blanked
      await db.query(`UPDATE qtasks.tasks SET data = '{}' ${where}`, p);
      break;
    case 'priority':
      // the column is a float: the closest to "not a number" that it holds
      await db.query(`UPDATE qtasks.tasks SET priority = 'NaN' ${where}`, p);
      break;
    case 'result':
      await db.query(`UPDATE qtasks.tasks SET result = '{"cut' ${where}`, p);
      break;
    case 'error':
      await db.query(`UPDATE qtasks.tasks SET error = '{"name":' ${where}`, p);
      break;
    case 'deep-args': {
      const f = JSON.parse(row.data) as Record<string, unknown>;
      f.args = '@deep@';
      await db.query(`UPDATE qtasks.tasks SET data = $3 ${where}`, [...p, JSON.stringify(f).replace('"@deep@"', '[' + deepJson(1_001) + ']')]);
      break;
    }
    case 'item':
      await db.query(`UPDATE qtasks.items SET item = '{"not json' WHERE queue = $1 AND task_id = $2 AND idx = 0`, p);
      break;
  }
}

/** Writes `json` as the stored value of `key` in state `state` of `app`'s queue in `db`. */
export async function pgCorruptState(db: TestDatabase, app: QTasks, state: string, key: string, json: string): Promise<void> {
  const rows = await db.query(`UPDATE qtasks.state SET value = $4 WHERE queue = $1 AND state = $2 AND key = $3 RETURNING key`, [app.name, state, key, json]);
  if (rows.length !== 1) throw new Error(`No stored state value ${state}.${key}`);
}
