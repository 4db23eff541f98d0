/**
 * Tasks used by the broker conformance suite. They report what they see to `probe`, which works
 * because the suite runs its worker in the test process.
 */
import 'reflect-metadata';
import { Task, TaskContext } from '..';
import { Probe, sleep, untilAborted } from './support';

/** What the broker tasks saw; reset before each case. */
export const probe = new Probe();

/** A retryable error. */
export class TransientError extends Error {
  constructor(message = 'transient') {
    super(message);
    this.name = 'TransientError';
  }
}

/** An error not worth a retry. */
export class FatalError extends Error {
  constructor(message = 'fatal') {
    super(message);
    this.name = 'FatalError';
  }
}

/** Every task of the broker suite, method form. */
export class BrokerTasks {
  @Task({ name: 'cb.add' })
  add(ctx: TaskContext, a: number, b: number): number {
    probe.start(ctx.id);
    return a + b;
  }

  @Task({ name: 'cb.order' })
  order(ctx: TaskContext, label: string): string {
    probe.start(ctx.id);
    probe.mark('order', label);
    return label;
  }

  /** Fails its first `failures` attempts with a TransientError. */
  @Task({ name: 'cb.flaky' })
  flaky(ctx: TaskContext, failures: number): number {
    probe.start(ctx.id);
    if (ctx.attempt <= failures) throw new TransientError(`attempt ${ctx.attempt}`);
    return ctx.attempt;
  }

  /** Throws the error classes named, one per attempt (then succeeds). */
  @Task({ name: 'cb.picky', retry: 3, retryOn: [TransientError] })
  picky(ctx: TaskContext, kinds: string[]): string {
    probe.start(ctx.id);
    const kind = kinds[ctx.attempt - 1];
    if (kind === 'transient') throw new TransientError();
    if (kind === 'fatal') throw new FatalError();
    return 'ok';
  }

  /** Waits `ms` or until aborted, then returns (or throws when `thenThrow`) whatever happened. */
  @Task({ name: 'cb.wait' })
  async wait(ctx: TaskContext, ms: number, thenThrow = false): Promise<string> {
    probe.start(ctx.id);
    const aborted = await untilAborted(ctx.signal, ms);
    if (aborted) probe.aborted.add(ctx.id);
    if (thenThrow) throw new Error('thrown after the wait');
    return aborted ? 'returned after abort' : 'waited';
  }

  /** Task-level defaults: priority 7, timeout 50 ms. */
  @Task({ name: 'cb.defaults', priority: 7, timeout: 50 })
  async defaults(ctx: TaskContext, ms: number): Promise<string> {
    probe.start(ctx.id);
    return (await untilAborted(ctx.signal, ms)) ? 'aborted' : 'waited';
  }

  @Task({ name: 'cb.selfCancel', retry: 2 })
  selfCancel(ctx: TaskContext, reason: string): string {
    probe.start(ctx.id);
    ctx.cancel(reason);
  }

  @Task({ name: 'cb.gen' })
  async *gen(ctx: TaskContext, n: number, gapMs: number): AsyncGenerator<number> {
    probe.start(ctx.id);
    for (let i = 0; i < n; i++) {
      if (gapMs > 0) await sleep(gapMs);
      yield i * 10;
    }
  }

  @Task({ name: 'cb.progress' })
  async progress(ctx: TaskContext, value: number): Promise<string> {
    probe.start(ctx.id);
    await ctx.progress(value);
    return 'done';
  }

  @Task({ name: 'cb.throwSync' })
  throwSync(ctx: TaskContext): never {
    probe.start(ctx.id);
    throw new FatalError('sync');
  }

  @Task({ name: 'cb.throwAsync' })
  async throwAsync(ctx: TaskContext): Promise<never> {
    probe.start(ctx.id);
    await sleep(1);
    throw new FatalError('async');
  }

  /** Fails on its first run per id, succeeds after (for manager.retry). */
  @Task({ name: 'cb.onceBroken' })
  onceBroken(ctx: TaskContext): string {
    probe.start(ctx.id);
    if (probe.runs(ctx.id) === 1) throw new FatalError('first run');
    return 'fixed';
  }
}
