/**
 * `app.timer`: cron schedules and fixed intervals that enqueue tasks, on croner. Timers run while
 * the app is started. Each tick is keyed by its scheduled time, and a broker lock on that key lets
 * exactly one process enqueue it, however many workers run the same timers.
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import type { Broker } from '../engine/broker';
import type { TaskDefinition } from '../discovery/task-definition';
import { ErrorCodes, QTasksError } from '../errors';
import type { Logger } from '../logger';

/** Options of `app.timer.cron`. */
export interface TimerOptions {
  /** IANA time zone the pattern is read in (default: the process's). */
  timezone?: string;
}

/** A scheduled timer. */
export interface TimerHandle {
  /** The task it enqueues. */
  readonly name: string;
  /** When it fires next (undefined when stopped or not started). */
  nextRun(): Date | undefined;
  /** Removes the timer. */
  stop(): void;
}

/** A schedule as `manager.schedules()` shows it. */
export interface ScheduleInfo {
  /** The task it enqueues. */
  name: string;
  /** Its cron pattern, or undefined for an interval. */
  pattern?: string;
  timezone?: string;
  /** Its interval in ms, for `app.timer.every`. */
  everyMs?: number;
  /** Where it comes from: `app.timer` or the task's `@Task({ cron })`. */
  source: 'timer' | 'task';
  /** When it fires next (ms since epoch). */
  nextRunAt?: number;
  /** When a tick of it was last enqueued, by any process of the queue (ms since epoch). */
  lastRunAt?: number;
}

/** The state name where the last enqueued tick of each schedule is kept. */
export const SCHEDULES_STATE = '__qtasks_schedules';

/** What timers need from the app. */
export interface TimerHost {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Keeps the time of the last tick of a schedule (shared by every process of the queue). */
  markRun?(key: string, tick: number): Promise<unknown>;
  /** The last ticks kept by {@link markRun}. */
  lastRuns?(): Promise<Record<string, unknown>>;
  /**
   * Enqueues a tick's task. It enqueues even once the app's `close()` began, which waits for the
   * ticks under way (see {@link Timers.stop}): a tick that won its lock was skipped by every other
   * process, so rejecting it would lose it.
   */
  addTask(name: string, args: unknown[]): Promise<unknown>;
  /** Task definitions, for `@Task({ cron })`. */
  definitions(): TaskDefinition[];
}

interface Entry extends TimerHandle {
  readonly key: string;
  readonly args: unknown[];
  readonly pattern?: string;
  readonly timezone?: string;
  readonly everyMs?: number;
  job?: Cron;
  timer?: NodeJS.Timeout;
  removed: boolean;
}

/** How long a tick's lock lives: longer than any clock skew between processes. */
const LOCK_TTL_MS = 60_000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Cron and interval timers of one app.
 * @example
 * ```ts
 * app.timer.cron('0 9 * * 1-5', 'report.daily', ['eu'], { timezone: 'Europe/Paris' });
 * app.timer.every(30_000, 'health.ping');
 * ```
 */
export class Timers {
  private readonly entries = new Set<Entry>();
  private readonly firing = new Set<Promise<void>>();
  private readonly checked = new WeakSet<object>();
  private running = false;

  constructor(private readonly host: TimerHost) {}

  /**
   * Enqueues task `name` with `args` at every match of the cron `pattern` (5 fields, or 6 with
   * seconds first). Throws `QTASKS_ERR_BAD_CRON` for a pattern or time zone that does not parse.
   */
  cron(pattern: string, name: string, args: unknown[] = [], options: TimerOptions = {}): TimerHandle {
    checkCron(pattern, options.timezone, `app.timer.cron('${pattern}', '${name}')`);
    checkTarget(name, args);
    return this.add({ pattern, timezone: options.timezone, name, args, key: keyOf(['cron', pattern, options.timezone ?? '', JSON.stringify(args)]) });
  }

  /** Enqueues task `name` every `ms` milliseconds (ticks aligned on multiples of `ms` since the epoch). */
  every(ms: number, name: string, args: unknown[] = []): TimerHandle {
    if (!(Number.isFinite(ms) && ms >= 1)) throw new QTasksError(ErrorCodes.BAD_OPTION, `app.timer.every(${ms}, '${name}'): ms must be a number >= 1`);
    checkTarget(name, args);
    return this.add({ everyMs: ms, name, args, key: keyOf(['every', String(ms), JSON.stringify(args)]) });
  }

  /** Every timer, those of `@Task({ cron })` included once started. */
  list(): TimerHandle[] {
    return [...this.entries];
  }

  /**
   * Every schedule of this app, `app.timer` ones and `@Task({ cron })` ones (started or not), with
   * their next run and the last tick any process of the queue enqueued.
   */
  async schedules(): Promise<ScheduleInfo[]> {
    const specs: (Pick<Entry, 'key' | 'name' | 'pattern' | 'timezone' | 'everyMs'> & { source: 'timer' | 'task' })[] = [];
    const keys = new Set<string>();
    for (const e of this.entries) {
      keys.add(e.key);
      specs.push({ ...e, source: e.key.startsWith('task:') ? 'task' : 'timer' });
    }
    for (const def of this.host.definitions()) {
      if (def.options.cron === undefined) continue;
      const { pattern, timezone, args } = cronOption(def);
      const key = taskCronKey(pattern, timezone, args);
      if (!keys.has(key)) specs.push({ key, name: def.name, pattern, timezone, source: 'task' });
    }
    const last: Record<string, unknown> = (await this.host.lastRuns?.().catch(() => ({}))) ?? {};
    const now = Date.now();
    return specs.map((e) => {
      const lastRun = Number(last[`${e.name}:${e.key}`]);
      return {
        name: e.name,
        source: e.source,
        ...(e.pattern !== undefined ? { pattern: e.pattern } : {}),
        ...(e.timezone !== undefined ? { timezone: e.timezone } : {}),
        ...(e.everyMs !== undefined ? { everyMs: e.everyMs } : {}),
        nextRunAt: e.everyMs !== undefined ? Math.ceil((now + 1) / e.everyMs) * e.everyMs : nextCron(e.pattern!, e.timezone),
        ...(Number.isFinite(lastRun) && lastRun > 0 ? { lastRunAt: lastRun } : {}),
      };
    });
  }

  /** Checks the `cron` option of task definitions; throws `QTASKS_ERR_BAD_CRON`. @internal */
  check(defs: TaskDefinition[]): void {
    for (const def of defs) {
      if (def.options.cron === undefined || this.checked.has(def)) continue;
      const { pattern, timezone } = cronOption(def);
      checkCron(pattern, timezone, `@Task({ name: '${def.name}', cron })`);
      this.checked.add(def);
    }
  }

  /** Starts every timer, adding those of `@Task({ cron })`. Called by `app.start()`. @internal */
  start(): void {
    if (this.running) return;
    const defs = this.host.definitions();
    this.check(defs);
    for (const def of defs) {
      if (def.options.cron === undefined) continue;
      const { pattern, timezone, args } = cronOption(def);
      this.add({ pattern, timezone, name: def.name, args, key: taskCronKey(pattern, timezone, args) });
    }
    this.running = true;
    for (const e of this.entries) this.schedule(e);
  }

  /** Stops every timer and waits for ticks being enqueued. Called by `app.close()`. @internal */
  async stop(): Promise<void> {
    this.running = false;
    for (const e of this.entries) unschedule(e);
    while (this.firing.size > 0) await Promise.all([...this.firing]);
  }

  private add(spec: Pick<Entry, 'key' | 'name' | 'args' | 'pattern' | 'timezone' | 'everyMs'>): TimerHandle {
    const entry: Entry = {
      ...spec,
      removed: false,
      nextRun: () => nextRunOf(entry),
      stop: () => {
        entry.removed = true;
        unschedule(entry);
        this.entries.delete(entry);
      },
    };
    this.entries.add(entry);
    if (this.running) this.schedule(entry);
    return entry;
  }

  private schedule(e: Entry): void {
    if (e.removed) return;
    if (e.pattern !== undefined) {
      e.job = new Cron(e.pattern, { timezone: e.timezone }, (job: Cron) => {
        // the tick is the scheduled time (the latest match not after now), the same in every process
        const tick = job.previousRuns(1, new Date(Date.now() + 500))[0]?.getTime() ?? Date.now();
        this.fire(e, tick);
      });
      return;
    }
    const ms = e.everyMs!;
    const arm = (tick: number) => {
      const wait = tick - Date.now();
      // setTimeout cannot wait longer than ~24.8 days: wait in steps
      if (wait > MAX_TIMEOUT_MS) {
        e.timer = setTimeout(() => arm(tick), MAX_TIMEOUT_MS);
        return;
      }
      e.timer = setTimeout(() => {
        this.fire(e, tick);
        if (this.running && !e.removed) arm(Math.max(tick + ms, Math.ceil(Date.now() / ms) * ms));
      }, Math.max(0, wait));
    };
    arm(Math.ceil((Date.now() + 1) / ms) * ms);
  }

  private fire(e: Entry, tick: number): void {
    const p = (async () => {
      try {
        const ttl = Math.min(LOCK_TTL_MS, Math.max(5_000, 10 * (e.everyMs ?? LOCK_TTL_MS)));
        if (!(await this.host.broker.tryLock(`timer:${e.name}:${e.key}:${tick}`, ttl))) return;
        // enqueued even once close() began (see TimerHost.addTask)
        await this.host.addTask(e.name, e.args);
        await this.host.markRun?.(`${e.name}:${e.key}`, tick).catch(() => undefined);
      } catch (err) {
        // a tick racing with close() is dropped quietly
        if (!this.running && (err as { code?: string }).code === ErrorCodes.CLOSED) return;
        this.host.logger.error(`Timer of task "${e.name}" could not enqueue its tick`, { error: err, tick });
      }
    })();
    this.firing.add(p);
    void p.then(() => this.firing.delete(p));
  }
}

function unschedule(e: Entry): void {
  e.job?.stop();
  e.job = undefined;
  if (e.timer) clearTimeout(e.timer);
  e.timer = undefined;
}

function nextRunOf(e: Entry): Date | undefined {
  if (e.removed) return undefined;
  if (e.job) return e.job.nextRun() ?? undefined;
  if (e.everyMs !== undefined && e.timer) return new Date(Math.ceil((Date.now() + 1) / e.everyMs) * e.everyMs);
  return undefined;
}

function cronOption(def: TaskDefinition): { pattern: string; timezone?: string; args: unknown[] } {
  const c = def.options.cron!;
  if (typeof c === 'string') return { pattern: c, args: [] };
  if (c === null || typeof c !== 'object') return { pattern: String(c), args: [] };
  return { pattern: c.pattern, timezone: c.timezone, args: c.args ?? [] };
}

/** Throws `QTASKS_ERR_BAD_CRON` unless croner accepts the pattern and the time zone exists. */
export function checkCron(pattern: unknown, timezone: string | undefined, where: string): void {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw new QTasksError(ErrorCodes.BAD_CRON, `${where}: the cron pattern must be a non-empty string`);
  }
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw new QTasksError(ErrorCodes.BAD_CRON, `${where}: unknown time zone "${timezone}"; use an IANA name such as "Europe/Paris"`);
    }
  }
  try {
    const job = new Cron(pattern, { paused: true, timezone });
    job.nextRun();
    job.stop();
  } catch (err) {
    throw new QTasksError(
      ErrorCodes.BAD_CRON,
      `${where}: "${pattern}" is not a cron pattern (${(err as Error).message}); use 5 fields (min hour day month weekday) or 6 with seconds first`,
      { cause: err },
    );
  }
}

function checkTarget(name: string, args: unknown[]): void {
  if (typeof name !== 'string' || name.length === 0) throw new QTasksError(ErrorCodes.BAD_OPTION, 'A timer needs the name of the task it enqueues');
  if (!Array.isArray(args)) throw new QTasksError(ErrorCodes.BAD_OPTION, `Timer of "${name}": args must be an array`);
}

/** Key of a `@Task({ cron })` schedule (prefixed so that its source can be told). */
function taskCronKey(pattern: string, timezone: string | undefined, args: unknown[]): string {
  return 'task:' + keyOf(['task-cron', pattern, timezone ?? '', JSON.stringify(args)]);
}

function nextCron(pattern: string, timezone: string | undefined): number | undefined {
  try {
    const job = new Cron(pattern, { paused: true, timezone });
    const next = job.nextRun();
    job.stop();
    return next?.getTime();
  } catch {
    return undefined;
  }
}

function keyOf(parts: string[]): string {
  return createHash('sha1').update(parts.join('\u0000')).digest('base64url').slice(0, 10);
}
