/**
 * `stateIncr` calls of one tick go to PostgreSQL as one statement (one round trip, one commit):
 * a worker's statistics flush adds a few dozen counters at once, and as many separate statements
 * would take every connection of the pool (and as many WAL flushes) while claims and ends wait.
 * A key given twice in one tick goes in the next statement, so each call still sees the value
 * right after its own increment.
 */
import type { PostgresStorage } from './postgres-storage';
import { TickBatch } from '../shared/tick-batch';

interface Incr {
  state: string;
  key: string;
  by: number;
}

const NUMERIC = `'^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$'`;

/** Increments in one statement at most. */
const CALL_SIZE = 1_000;

/** The counter of an increment. */
const counterOf = (p: { state: string; key: string }): string => p.state + '\0' + p.key;

/** Coalesces the counter increments of one queue. */
export class PgIncrBatch {
  private readonly batch: TickBatch<Incr, number>;

  constructor(db: PostgresStorage) {
    // each counter once per statement: a second increment of it waits for the first one's value
    this.batch = new TickBatch<Incr, number>(
      async (_group, incrs) => {
        const res = await db.q<{ state: string; key: string; value: string }>(
          'state incr',
          `INSERT INTO ${db.s}.state AS st (queue, state, key, value)
           SELECT $1, u.state, u.key, u.by::text FROM unnest($2::text[], $3::text[], $4::numeric[]) AS u(state, key, by)
           ON CONFLICT (queue, state, key) DO UPDATE SET value = ((CASE WHEN st.value ~ ${NUMERIC} THEN st.value::numeric ELSE 0 END) + EXCLUDED.value::numeric)::text
           RETURNING st.state, st.key, st.value`,
          [db.ctx.queue, incrs.map((p) => p.state), incrs.map((p) => p.key), incrs.map((p) => p.by)],
        );
        const values = new Map<string, number>();
        for (const row of res.rows) values.set(counterOf(row), Number(row.value));
        return incrs.map((p) => values.get(counterOf(p)) ?? NaN);
      },
      CALL_SIZE,
      Infinity,
      counterOf,
    );
  }

  /** Adds `by` to the counter `key` of `state`; resolves with its new value. */
  add(state: string, key: string, by: number): Promise<number> {
    return this.batch.add('', { state, key, by });
  }
}
