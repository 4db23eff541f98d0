/**
 * Shared pieces of the conformance suites: the factory type an engine passes in, an app tracker
 * that closes every app after each test, unique queue names, and small polling helpers.
 */
import 'reflect-metadata';
import type { ConfigValues, QTasks, QueueOptions } from '..';

/** What a conformance suite asks its factory for. */
export interface AppSpec {
  /** Queue name; unique per test. Two apps made with the same name share one queue. */
  name: string;
  concurrency?: number;
  config?: Partial<ConfigValues>;
  /** Named queues the app consumes (`new QTasks({ queues })`); pass it through. */
  queues?: Record<string, QueueOptions>;
}

/**
 * Builds an app on the engine under test (tasks are registered by the suite, so `discover: false`
 * is advised). Two calls with the same `name` must give apps of the same queue when
 * `features.sharedQueue` is set.
 */
export type AppFactory = (spec: AppSpec) => QTasks | Promise<QTasks>;

/** Optional abilities of an engine, enabling the cases that need them. */
export interface ConformanceFeatures {
  /** Two apps made with one name share a queue (a producer app and a worker app). */
  sharedQueue?: boolean;
  /** With `sharedQueue`: each app of the queue sees every event once (not the memory engine). */
  sharedEvents?: boolean;
  /**
   * For an engine that splits a queue over partitions (priorities, FIFO and retention then hold
   * within a partition): the partition of a task id. The cases of order and retention then give
   * their tasks ids of one partition.
   */
  partitionOf?: (id: string) => number;
}

let seq = 0;

/** A queue name unique to this process and test. */
export function uniqueName(suite: string): string {
  return `conf-${suite}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/**
 * `n` task ids of one partition (see {@link ConformanceFeatures.partitionOf}), as enqueue options;
 * with no partitions, options without an id (the engine makes its own).
 */
export function onePartition(features: ConformanceFeatures, n: number): { id?: string }[] {
  const of = features.partitionOf;
  if (of === undefined) return Array.from({ length: n }, () => ({}));
  const base = `op-${process.pid}-${Date.now().toString(36)}-${++seq}`;
  const out: { id?: string }[] = [];
  const target = of(`${base}-0`);
  for (let i = 0; out.length < n; i++) if (of(`${base}-${i}`) === target) out.push({ id: `${base}-${i}` });
  return out;
}

/** Makes apps for one test and closes them all afterwards. */
export class AppTracker {
  private apps: QTasks[] = [];

  constructor(
    private readonly factory: AppFactory,
    private readonly cleanup?: () => Promise<void>,
  ) {}

  /** An app on a fresh queue (or on `spec.name` when given), silent and quick to close. */
  async make(spec: Partial<AppSpec> & { suite?: string } = {}): Promise<QTasks> {
    const name = spec.name ?? uniqueName(spec.suite ?? 'x');
    const app = await this.factory({
      name,
      concurrency: spec.concurrency,
      config: { logLevel: 'silent', shutdownTimeoutMs: 2_000, ...spec.config },
      ...(spec.queues === undefined ? {} : { queues: spec.queues }),
    });
    this.apps.push(app);
    return app;
  }

  /** Closes every app made (newest first), then runs the engine's cleanup. */
  async closeAll(): Promise<void> {
    const apps = this.apps.reverse();
    this.apps = [];
    for (const app of apps) await app.close();
    if (this.cleanup) await this.cleanup();
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 5 ms until it holds; throws after `timeoutMs` saying what it waited for. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves when `signal` aborts, or after `maxMs`; true when it aborted. Leaves no timer behind. */
export function untilAborted(signal: AbortSignal, maxMs: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, maxMs);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What tasks of a suite record, keyed by task id; reset before each test. */
export class Probe {
  /** Task ids in the order their runs started. */
  readonly started: string[] = [];
  /** Per task id: the labels it ran with, in order (e.g. one per attempt). */
  readonly marks = new Map<string, unknown[]>();
  /** Per task id: Date.now() at the start of each attempt. */
  readonly attemptsAt = new Map<string, number[]>();
  /** Task ids whose signal was seen aborted. */
  readonly aborted = new Set<string>();

  reset(): void {
    this.started.length = 0;
    this.marks.clear();
    this.attemptsAt.clear();
    this.aborted.clear();
  }

  start(id: string): void {
    this.started.push(id);
    const at = this.attemptsAt.get(id) ?? [];
    at.push(Date.now());
    this.attemptsAt.set(id, at);
  }

  mark(id: string, label: unknown): void {
    const list = this.marks.get(id) ?? [];
    list.push(label);
    this.marks.set(id, list);
  }

  runs(id: string): number {
    return this.attemptsAt.get(id)?.length ?? 0;
  }
}
