/**
 * `stateGet` and `stateDelete` calls of one tick go to PostgreSQL as one statement each (one round
 * trip, one pool connection): a workflow reads and deletes a group's results together, and tasks
 * that read a setting at every run would otherwise take a pool connection each. Each call gets its
 * own answer.
 */
import type { PostgresStorage } from './postgres-storage';

interface Pending<T> {
  state: string;
  key: string;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

/** Calls in one statement at most (the rest go in further statements, sent at once). */
const CALL_SIZE = 1_000;

/** Coalesces the calls of one tick of one kind; `send` runs one statement for a batch. */
class TickBatch<T> {
  private pending: Pending<T>[] = [];
  private scheduled = false;
  private readonly flushFn = (): void => this.flush();

  constructor(private readonly send: (batch: Pending<T>[]) => Promise<T[]>) {}

  add(state: string, key: string): Promise<T> {
    return new Promise((resolve, reject) => {
      this.pending.push({ state, key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flushFn);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let from = 0; from < all.length; from += CALL_SIZE) {
      const batch = all.length <= CALL_SIZE ? all : all.slice(from, from + CALL_SIZE);
      this.send(batch).then(
        (values) => {
          for (let i = 0; i < batch.length; i++) batch[i].resolve(values[i]);
        },
        (err: Error) => {
          for (const p of batch) p.reject(err);
        },
      );
    }
  }
}

/** The reads and deletes of one queue's state, a statement per tick each. */
export class PgStateReads {
  /** The stored text of each value asked for (undefined when missing). */
  readonly gets: TickBatch<string | undefined>;
  /** Whether each value deleted existed. */
  readonly deletes: TickBatch<boolean>;

  constructor(db: PostgresStorage) {
    const pairs = (batch: readonly { state: string; key: string }[]) => [db.ctx.queue, batch.map((p) => p.state), batch.map((p) => p.key)];
    const idOf = (state: string, key: string) => state + '\0' + key;
    this.gets = new TickBatch(async (batch) => {
      const res = await db.q<{ state: string; key: string; value: string }>(
        'state get',
        `SELECT st.state, st.key, st.value FROM ${db.s}.state st JOIN unnest($2::text[], $3::text[]) AS u(state, key)
         ON st.state = u.state AND st.key = u.key WHERE st.queue = $1`,
        pairs(batch),
      );
      const found = new Map<string, string>();
      for (const row of res.rows) found.set(idOf(row.state, row.key), row.value);
      return batch.map((p) => found.get(idOf(p.state, p.key)));
    });
    this.deletes = new TickBatch(async (batch) => {
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
    });
  }
}
