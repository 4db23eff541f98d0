/**
 * `stateGet` and `stateDelete` calls of one tick go to PostgreSQL as one statement each (one round
 * trip, one pool connection): a workflow reads and deletes a group's results together, and tasks
 * that read a setting at every run would otherwise take a pool connection each. Each call gets its
 * own answer.
 */
import { TickBatch } from '../shared/tick-batch';
import type { PostgresStorage } from './postgres-storage';

/** A batched call: the state and the key it reads or deletes. */
interface StateCall {
  state: string;
  key: string;
}

/** Calls in one statement at most (the rest go in further statements, sent at once). */
const CALL_SIZE = 1_000;

/** The reads and deletes of one queue's state, a statement per tick each. */
export class PgStateReads {
  /** The stored text of each value asked for (undefined when missing). */
  readonly gets: TickBatch<StateCall, string | undefined>;
  /** Whether each value deleted existed. */
  readonly deletes: TickBatch<StateCall, boolean>;

  constructor(db: PostgresStorage) {
    const pairs = (batch: StateCall[]) => [db.ctx.queue, batch.map((p) => p.state), batch.map((p) => p.key)];
    const idOf = (state: string, key: string) => state + '\0' + key;
    // one group: a statement carries the calls of every state
    this.gets = new TickBatch(async (_group, batch) => {
      const res = await db.q<{ state: string; key: string; value: string }>(
        'state get',
        `SELECT st.state, st.key, st.value FROM ${db.s}.state st JOIN unnest($2::text[], $3::text[]) AS u(state, key)
         ON st.state = u.state AND st.key = u.key WHERE st.queue = $1`,
        pairs(batch),
      );
      const found = new Map<string, string>();
      for (const row of res.rows) found.set(idOf(row.state, row.key), row.value);
      return batch.map((p) => found.get(idOf(p.state, p.key)));
    }, CALL_SIZE);
    this.deletes = new TickBatch(async (_group, batch) => {
      const res = await db.q<{ state: string; key: string }>(
        'state delete',
        `DELETE FROM ${db.s}.state st USING unnest($2::text[], $3::text[]) AS u(state, key)
         WHERE st.queue = $1 AND st.state = u.state AND st.key = u.key RETURNING st.state, st.key`,
        pairs(batch),
      );
      const gone = new Set(res.rows.map((row) => idOf(row.state, row.key)));
      // a key given twice in the tick: the first call deleted it
      const seen = new Set<string>();
      return batch.map((p) => {
        const id = idOf(p.state, p.key);
        const first = gone.has(id) && !seen.has(id);
        seen.add(id);
        return first;
      });
    }, CALL_SIZE);
  }
}
