/**
 * `stateIncr` calls of one tick go to PostgreSQL as one statement (one round trip, one commit):
 * a worker's statistics flush adds a few dozen counters at once, and as many separate statements
 * would take every connection of the pool (and as many WAL flushes) while claims and ends wait.
 * A key given twice in one tick goes in the next statement, so each call still sees the value
 * right after its own increment.
 */
import type { PostgresStorage } from './postgres-storage';

interface PendingIncr {
  state: string;
  key: string;
  by: number;
  resolve: (value: number) => void;
  reject: (err: Error) => void;
}

const NUMERIC = `'^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$'`;

/** Coalesces the counter increments of one queue. */
export class PgIncrBatch {
  private pending: PendingIncr[] = [];
  private scheduled = false;
  private readonly flushFn = () => this.flush();

  constructor(private readonly db: PostgresStorage) {}

  /** Adds `by` to the counter `key` of `state`; resolves with its new value. */
  add(state: string, key: string, by: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ state, key, by, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flushFn);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const now: PendingIncr[] = [];
    const later: PendingIncr[] = [];
    const seen = new Set<string>();
    for (const p of this.pending) {
      const id = p.state + '\0' + p.key;
      if (seen.has(id)) later.push(p);
      else {
        seen.add(id);
        now.push(p);
      }
    }
    this.pending = [];
    if (now.length === 0) return;
    const s = this.db.s;
    this.db
      .q<{ state: string; key: string; value: string }>(
        'state incr',
        `INSERT INTO ${s}.state AS st (queue, state, key, value)
         SELECT $1, u.state, u.key, u.by::text FROM unnest($2::text[], $3::text[], $4::numeric[]) AS u(state, key, by)
         ON CONFLICT (queue, state, key) DO UPDATE SET value = ((CASE WHEN st.value ~ ${NUMERIC} THEN st.value::numeric ELSE 0 END) + EXCLUDED.value::numeric)::text
         RETURNING st.state, st.key, st.value`,
        [this.db.ctx.queue, now.map((p) => p.state), now.map((p) => p.key), now.map((p) => p.by)],
      )
      .then(
        (res) => {
          const values = new Map<string, number>();
          for (const row of res.rows) values.set(row.state + '\0' + row.key, Number(row.value));
          for (const p of now) p.resolve(values.get(p.state + '\0' + p.key) ?? NaN);
        },
        (err: Error) => {
          for (const p of now) p.reject(err);
        },
      )
      .finally(() => {
        // the second increment of a key waits for the first one's value
        if (later.length === 0) return;
        this.pending = later.concat(this.pending);
        this.flush();
      });
  }
}
