/**
 * Tasks of the TaskManager suite: one that echoes, one that fails (always, or on its first run
 * only), and one that blocks until a gate opens (or its signal aborts).
 */
import 'reflect-metadata';
import { Task, TaskContext, TaskSelf } from '..';

/** A gate tasks wait on; `open()` lets every waiting and later task through. */
export class Gate {
  private opened = false;
  private waiters: (() => void)[] = [];

  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }

  reset(): void {
    this.opened = false;
  }

  wait(signal: AbortSignal): Promise<void> {
    if (this.opened) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => resolve();
      this.waiters.push(done);
      signal.addEventListener('abort', () => reject(signal.reason ?? new Error('aborted')), { once: true });
    });
  }
}

/** The gate of `cm.block`. */
export const gate = new Gate();
/** Runs seen per task id (for "fails on its first run only"). */
export const runs = new Map<string, number>();
/** Ids of the `cm.block` runs that started (a claimed task a worker only holds is not in it). */
export const started = new Set<string>();

/** Method-form tasks for the manager, web and CLI tests. */
export class ManagerTasks {
  @Task({ name: 'cm.echo' })
  echo(value: unknown): unknown {
    return value;
  }

  @Task({ name: 'cm.fail' })
  async fail(ctx: TaskContext, mode: 'always' | 'once' = 'always'): Promise<string> {
    const n = (runs.get(ctx.id) ?? 0) + 1;
    runs.set(ctx.id, n);
    await ctx.log(`cm.fail run ${n}`);
    if (mode === 'always' || n === 1) throw new Error(`cm.fail run ${n}`);
    return `ok on run ${n}`;
  }

  @Task({ name: 'cm.block' })
  async block(ctx: TaskContext): Promise<string> {
    started.add(ctx.id);
    await gate.wait(ctx.signal);
    return 'released';
  }

  @Task({ name: 'cm.parent', echo: true })
  async parent(self: TaskSelf, value: unknown): Promise<unknown> {
    const child = await self.addTask('cm.echo', [value]);
    return child.result();
  }

  @Task({ name: 'cm.stream' })
  async *stream(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
}
