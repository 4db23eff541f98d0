/**
 * `stateGet`, `stateSet`, `stateDelete` and `stateAddMember` calls of one tick go to PostgreSQL as
 * one statement each (one round trip, one pool connection). A workflow writes its members' results
 * together, reads and deletes a group's results together, and counts the members that end together
 * in one call (`state_add_members`, which writes each set once); tasks that read a setting at every
 * run would otherwise take a pool connection each. Sets and adds keep one statement out at a time:
 * those made meanwhile go together in the next. Each call gets its own answer.
 */
import { TickBatch } from '../shared/tick-batch';
import type { PostgresStorage } from './postgres-storage';

/** A batched call: the state and the key it reads, deletes, sets to `value` (JSON) or adds `member` to. */
interface StateCall {
  state: string;
  key: string;
  member?: number;
  value?: string;
}

/** Calls in one statement at most (the rest go in further statements, sent at once). */
const CALL_SIZE = 1_000;

/** The reads, sets, deletes and set adds of one queue's state, a statement per tick each. */
export class PgStateBatch {
  /** The stored text of each value asked for (undefined when missing). */
  readonly gets: TickBatch<StateCall, string | undefined>;
  /** Whether each value deleted existed. */
  readonly deletes: TickBatch<StateCall, boolean>;
  /** The size of each set right after its add. */
  readonly adds: TickBatch<StateCall, number>;
  /** Values written. */
  readonly sets: TickBatch<StateCall, void>;

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
    // one statement out at a time: adds to a set wait for its row lock anyway, so those made
    // meanwhile go together in the next statement, which writes the set once
    this.adds = new TickBatch(async (_group, batch) => {
      const res = await db.q<{ n: number[] }>(
        'state add',
        `SELECT ${db.s}.state_add_members($1, $2, $3, $4) AS n`,
        [...pairs(batch), batch.map((p) => String(p.member))],
      );
      return res.rows[0].n.map(Number);
    }, CALL_SIZE, 1);
    // one statement out at a time: the sets made meanwhile go together in the next one, and the
    // sets of this process apply in the order made
    this.sets = new TickBatch(async (_group, batch) => {
      // a key set twice in the batch: its last value (one statement cannot write a row twice)
      const last = new Map<string, StateCall>();
      for (const p of batch) {
        const id = idOf(p.state, p.key);
        last.delete(id);
        last.set(id, p);
      }
      const rows = [...last.values()];
      await db.q(
        'state set',
        `INSERT INTO ${db.s}.state (queue, state, key, value) SELECT $1, u.state, u.key, u.value FROM unnest($2::text[], $3::text[], $4::text[]) AS u(state, key, value)
         ON CONFLICT (queue, state, key) DO UPDATE SET value = EXCLUDED.value`,
        [...pairs(rows), rows.map((p) => p.value)],
      );
      return new Array<void>(batch.length);
    }, CALL_SIZE, 1);
  }
}
