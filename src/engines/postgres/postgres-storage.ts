/**
 * PostgreSQL Storage: task records (a row per task), streamed items, shared state and the manager's
 * queries. It owns the engine's connections; the {@link PostgresBroker} it pairs with uses them too.
 * Expired records (past `resultTtlMs`) are invisible at once and deleted by the workers' sweep.
 */
import { createHash } from 'node:crypto';
import type { EngineContext } from '../../engine/broker';
import { CleanQuery, ListQuery, Storage } from '../../engine/storage';
import type { TaskLogLine } from '../../task/task-history';
import { ClosedError, ErrorCodes, QTasksError } from '../../errors';
import { toJson } from '../../task/json';
import { decodeStateValue, decodeStateValues } from '../bad-record';
import { checkMember } from '../shared/state-member';
import type { StoredItem } from '../shared/item-watchers';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';
import { decodeRow, TaskRow } from './pg-codec';
import { PgLink } from './pg-link';
import { isPlainIdentifier, PostgresEngineOptions } from './pg-options';
import { PgRecordWriter } from './pg-record-writer';
import { PgIncrBatch } from './pg-state-incr';
import { PgStateBatch } from './pg-state-batch';
import { TickBatch } from '../shared/tick-batch';

const LIVE = '(t.expires_at IS NULL OR t.expires_at > $2)';

/** Keeps records and state in PostgreSQL; pairs with {@link PostgresBroker}. */
export class PostgresStorage extends Storage {
  readonly engine = 'postgres';
  /** Record writes for a broker of another engine (a RabbitMQ broker keeping its records here). */
  readonly recordWriter: PgRecordWriter = new PgRecordWriter(this);
  /** The increments of one tick, sent as one statement. */
  private readonly incrs = new PgIncrBatch(this);
  private readonly stateCalls = new PgStateBatch(this);
  /** @internal */
  link!: PgLink;
  /** @internal */
  ctx!: EngineContext;
  /** @internal the queue's notification channel. */
  channel = '';
  /** @internal told of removed tasks (the broker forgets what it noted about them). */
  onRemoved: ((ids: string[] | undefined) => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private initialised: () => void = () => undefined;
  private readonly whenInit = new Promise<void>((r) => (this.initialised = r));
  /** The schema name, quoted for SQL. */
  readonly s: string;

  constructor(private readonly options: PostgresEngineOptions) {
    super();
    const schema = options.schema ?? 'qtasks';
    this.s = '"' + schema + '"';
    if (!isPlainIdentifier(schema)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `PostgreSQL schema ${JSON.stringify(schema)} must be a plain identifier (letters, digits, _)`);
    }
    if (!options.connectionString && !options.pool) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'postgresEngine() needs a connectionString (postgres://…) or a pg Pool');
    }
    // one client of the pool is held for LISTEN: a pool of one would leave none for statements
    const max = (options.pool as { options?: { max?: number } } | undefined)?.options?.max;
    if (max !== undefined && max < 2) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `postgresEngine({ pool }): the pool allows ${max} connection(s); it needs at least 2 (one is held for LISTEN)`);
    }
  }

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('PostgresStorage used');
    if (this.link) return;
    this.ctx = ctx;
    this.link = new PgLink(this.options, ctx.config.connectTimeoutMs, ctx.logger);
    this.channel = 'qt_' + createHash('sha1').update(this.link.schema + '\0' + ctx.queue).digest('hex').slice(0, 40);
    this.initialised();
  }

  /** A storage for another queue of the same app (its own pool, or the same pool when one was given). */
  sibling(): PostgresStorage {
    return new PostgresStorage(this.options);
  }

  /** Every queue with tasks, workers or a paused flag in this schema. */
  async queueNames(): Promise<string[]> {
    const s = this.s;
    const r = await this.q<{ queue: string }>(
      'queues',
      `SELECT queue FROM ${s}.queues UNION SELECT queue FROM ${s}.workers UNION SELECT DISTINCT queue FROM ${s}.tasks UNION SELECT $1::text ORDER BY 1`,
      [this.ctx.queue],
    );
    return r.rows.map((row) => row.queue);
  }

  close(): Promise<void> {
    this.closed = true;
    return (this.closing ??= this.link ? this.link.close() : Promise.resolve());
  }

  /**
   * The record reads of one tick, in one statement (chunks of 1,000): a workflow handle's `result()`
   * reads the records of every member at once, and the periodic recheck of the waiting `result()`
   * calls reads them all again; one statement each spent a pool connection per record.
   */
  private readonly gets = new TickBatch<string, TaskRecord | undefined>(async (_group, ids) => {
    const r = await this.q<TaskRow>('get', `SELECT * FROM ${this.s}.tasks t WHERE t.queue = $1 AND ${LIVE} AND t.id = ANY($3::text[])`, [this.ctx.queue, Date.now(), ids]);
    const rows = new Map<string, TaskRow>();
    for (const row of r.rows) rows.set(row.id, row);
    // a record of its own for each call (an id asked twice in the tick too)
    return ids.map((id) => {
      const row = rows.get(id);
      return row === undefined ? undefined : decodeRow(row);
    });
  }, 1_000);

  get(id: string): Promise<TaskRecord | undefined> {
    return this.gets.add('', id);
  }

  async list(query: ListQuery = {}): Promise<TaskRecord[]> {
    const params: unknown[] = [this.ctx.queue, Date.now()];
    let where = `t.queue = $1 AND ${LIVE}`;
    if (query.status !== undefined) {
      params.push(Array.isArray(query.status) ? query.status : [query.status]);
      where += ` AND t.status = ANY($${params.length})`;
    }
    if (query.name !== undefined) {
      params.push(query.name);
      where += ` AND t.name = $${params.length}`;
    }
    if (query.since !== undefined) {
      params.push(query.since);
      where += ` AND t.created_at >= $${params.length}`;
    }
    if (query.until !== undefined) {
      params.push(query.until);
      where += ` AND t.created_at < $${params.length}`;
    }
    params.push(query.limit === undefined ? null : Math.max(0, query.limit), Math.max(0, query.offset ?? 0));
    const sql = `SELECT * FROM ${this.s}.tasks t WHERE ${where} ORDER BY t.seq DESC LIMIT $${params.length - 1} OFFSET $${params.length}`;
    const records = (await this.q<TaskRow>('list', sql, params)).rows.map(decodeRow);
    // a row that reads as a bad record has the status it reads with (error), not the stored one
    if (query.status === undefined) return records;
    const wanted = new Set(Array.isArray(query.status) ? query.status : [query.status]);
    return records.filter((r) => wanted.has(r.status));
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    const r = await this.q<{ status: string; n: number }>(
      'counts',
      `SELECT t.status, count(*)::int AS n FROM ${this.s}.tasks t WHERE t.queue = $1 AND ${LIVE} GROUP BY t.status`,
      [this.ctx.queue, Date.now()],
    );
    const out = {} as Record<TaskStatus, number>;
    for (const s of TASK_STATUSES) out[s] = 0;
    // a row with a status no version knows counts as error (it reads as a bad record)
    for (const row of r.rows) {
      const s = (TASK_STATUSES as readonly string[]).includes(row.status) ? (row.status as TaskStatus) : 'error';
      out[s] += row.n;
    }
    return out;
  }

  async remove(id: string): Promise<boolean> {
    this.onRemoved?.([id]);
    const r = await this.q('remove', `DELETE FROM ${this.s}.tasks t WHERE t.queue = $1 AND ${LIVE} AND t.id = $3 AND t.status <> 'process' AND t.status <> 'waiting'`, [this.ctx.queue, Date.now(), id]);
    return (r.rowCount ?? 0) > 0;
  }

  async purge(status: TaskStatus): Promise<number> {
    // running and waiting tasks are live: cancel them instead
    if (status === 'process' || status === 'waiting') return 0;
    this.onRemoved?.(undefined);
    const r = await this.q('purge', `DELETE FROM ${this.s}.tasks t WHERE t.queue = $1 AND ${LIVE} AND t.status = $3`, [this.ctx.queue, Date.now(), status]);
    return r.rowCount ?? 0;
  }

  async clean(query: CleanQuery): Promise<number> {
    this.onRemoved?.(undefined);
    const r = await this.q(
      'clean',
      `DELETE FROM ${this.s}.tasks d WHERE (d.queue, d.id) IN (SELECT t.queue, t.id FROM ${this.s}.tasks t WHERE t.queue = $1 AND ${LIVE}
         AND t.status = ANY($3) AND t.finished_at <= $4 ORDER BY t.finished_at, t.seq LIMIT $5)`,
      [this.ctx.queue, Date.now(), query.statuses, query.finishedBefore, query.limit ?? null],
    );
    return r.rowCount ?? 0;
  }

  async appendLog(id: string, line: TaskLogLine): Promise<void> {
    const max = this.ctx.config.maxLogLines;
    if (max <= 0) return;
    await this.q(
      'log',
      `UPDATE ${this.s}.tasks t SET logs = (SELECT jsonb_agg(a.e ORDER BY a.n)::text FROM (
         SELECT x.e, x.n FROM jsonb_array_elements(coalesce(t.logs::jsonb, '[]'::jsonb) || jsonb_build_array($3::jsonb))
           WITH ORDINALITY AS x(e, n) ORDER BY x.n DESC LIMIT $4) a)
       WHERE t.queue = $1 AND t.id = $2`,
      [this.ctx.queue, id, JSON.stringify(line), max],
    );
  }

  async items(id: string, from = 0): Promise<unknown[]> {
    return (await this.itemsAt(id, from)).map((e) => e.value);
  }

  /**
   * @internal Stream items from index `from` with their index (an item that cannot be decoded is
   * left out, the indexes of the others stay theirs).
   */
  async itemsAt(id: string, from = 0): Promise<StoredItem[]> {
    const r = await this.q<{ idx: number; item: string }>(
      'items',
      `SELECT i.idx, i.item FROM ${this.s}.items i WHERE i.queue = $1 AND i.task_id = $2 AND i.idx >= $3 ORDER BY i.idx`,
      [this.ctx.queue, id, from],
    );
    const out: StoredItem[] = [];
    for (const row of r.rows) {
      try {
        out.push({ index: row.idx, value: JSON.parse(row.item) });
      } catch {
        this.ctx.logger.warn('A stored stream item cannot be decoded; it was skipped', { id, code: ErrorCodes.BAD_RECORD });
      }
    }
    return out;
  }

  async stateGet(state: string, key: string): Promise<unknown> {
    // the reads of one tick go in one statement (see PgStateBatch)
    const v = await this.stateCalls.gets.add('', { state, key });
    return v === undefined ? undefined : decodeStateValue(state, key, v);
  }

  async stateSet(state: string, key: string, value: unknown): Promise<void> {
    const v = JSON.stringify(toJson(value, 'State values', key, this.ctx?.config)) ?? 'null';
    // the sets of one tick go in one statement (see PgStateBatch)
    await this.stateCalls.sets.add('', { state, key, value: v });
  }

  async stateUpdate(state: string, key: string, fn: (value: unknown) => unknown): Promise<unknown> {
    const p = [this.ctx.queue, state, key];
    const read = async () => (await this.q<{ value: string }>('state update', `SELECT value FROM ${this.s}.state WHERE queue = $1 AND state = $2 AND key = $3`, p)).rows[0]?.value;
    let current = await read();
    for (;;) {
      const next = toJson(fn(current === undefined ? undefined : decodeStateValue(state, key, current)), 'State values', key, this.ctx?.config);
      const nextJson = JSON.stringify(next) ?? 'null';
      const r =
        current === undefined
          ? await this.q('state update', `INSERT INTO ${this.s}.state (queue, state, key, value) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [...p, nextJson])
          : await this.q('state update', `UPDATE ${this.s}.state SET value = $4 WHERE queue = $1 AND state = $2 AND key = $3 AND value = $5`, [...p, nextJson, current]);
      if ((r.rowCount ?? 0) > 0) return next;
      current = await read();
    }
  }

  stateIncr(state: string, key: string, by: number): Promise<number> {
    return this.incrs.add(state, key, by);
  }

  stateAddMember(state: string, key: string, member: number): Promise<number> {
    try {
      checkMember(member);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // the adds of one tick go in one statement, each set written once (see PgStateBatch)
    return this.stateCalls.adds.add('', { state, key, member });
  }

  stateDelete(state: string, key: string): Promise<boolean> {
    // the deletes of one tick go in one statement (see PgStateBatch)
    return this.stateCalls.deletes.add('', { state, key });
  }

  async stateAll(state: string): Promise<Record<string, unknown>> {
    const r = await this.q<{ key: string; value: string }>('state all', `SELECT key, value FROM ${this.s}.state WHERE queue = $1 AND state = $2`, [this.ctx.queue, state]);
    return decodeStateValues(r.rows.map((row): [string, string] => [row.key, row.value]));
  }

  /** @internal a statement with the engine's deadline (waits for init: state stores may be used first). */
  async q<R extends object = Record<string, unknown>>(what: string, text: string, params: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    if (this.closed) throw new ClosedError(what);
    if (!this.link) await this.whenInit;
    return this.link.query(what, text, params) as unknown as Promise<{ rows: R[]; rowCount: number | null }>;
  }
}
