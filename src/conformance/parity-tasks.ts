/**
 * Tasks of the parity suite (options BullMQ users look for): log lines, attempt history,
 * UnrecoverableError, backoff functions and retention. They report to `parityProbe`.
 */
import 'reflect-metadata';
import { Task, TaskContext, UnrecoverableError } from '..';
import { Probe } from './support';

/** What the parity tasks saw; reset before each case. */
export const parityProbe = new Probe();
/** Calls of the backoff function of `pa.fnBackoff`: [attempt, error message]. */
export const backoffCalls: [number, string][] = [];

/** Every task of the parity suite, method form. */
export class ParityTasks {
  @Task({ name: 'pa.ok' })
  ok(ctx: TaskContext, value: unknown): unknown {
    parityProbe.start(ctx.id);
    return value;
  }

  @Task({ name: 'pa.fail' })
  fail(ctx: TaskContext, message: string): never {
    parityProbe.start(ctx.id);
    throw new Error(message);
  }

  /** Writes `lines` log lines, then returns how many it wrote. */
  @Task({ name: 'pa.log' })
  async log(ctx: TaskContext, lines: string[]): Promise<number> {
    for (const line of lines) await ctx.log(line);
    return lines.length;
  }

  /** Fails its first `failures` attempts (logging each), then returns its attempt. */
  @Task({ name: 'pa.flaky', retry: 5 })
  async flaky(ctx: TaskContext, failures: number): Promise<number> {
    parityProbe.start(ctx.id);
    await ctx.log(`attempt ${ctx.attempt}`);
    if (ctx.attempt <= failures) throw new Error(`failure ${ctx.attempt}`);
    return ctx.attempt;
  }

  @Task({ name: 'pa.unrecoverable', retry: 5 })
  unrecoverable(ctx: TaskContext): never {
    parityProbe.start(ctx.id);
    throw new UnrecoverableError('the input can never work', { cause: new Error('root cause') });
  }

  /** Always fails; its backoff function allows two retries only. */
  @Task({
    name: 'pa.fnBackoff',
    retry: 10,
    backoff: (attempt: number, error: unknown) => {
      backoffCalls.push([attempt, (error as Error).message]);
      return attempt >= 3 ? -1 : 5;
    },
  })
  fnBackoff(ctx: TaskContext): never {
    parityProbe.start(ctx.id);
    throw new Error(`boom ${ctx.attempt}`);
  }

  @Task({ name: 'pa.keepOneFailure', removeOnFail: 1 })
  keepOneFailure(ctx: TaskContext, message: string): never {
    parityProbe.start(ctx.id);
    throw new Error(message);
  }
}
