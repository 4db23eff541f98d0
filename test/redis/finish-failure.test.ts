/**
 * A worker's finish call that fails for a reason other than a lost connection (a script error, OOM,
 * BUSY): the ends it carried are sent again after a short wait, and recorded once the cause has
 * cleared; an end that still cannot be recorded after a few calls is given up, and its task goes
 * back to the queue (as a held task its worker does not know) and runs again. Either way its
 * result() settles and the worker goes on running new tasks.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';
import { RedisStorage } from 'qtasks/redis';
import type { ScriptFn } from '../../src/engines/redis/redis-link';
import { FINISH_TRIES } from '../../src/engines/redis/finish-retries';
import { redisQueueFixture } from './redis-support';

jest.setTimeout(30_000);

const runs = new Map<string, number>();

class FinishFailureTasks {
  @Task({ name: 'ff.echo' })
  echo(v: string): string {
    runs.set(v, (runs.get(v) ?? 0) + 1);
    return v;
  }
}

/** The ids of the ends a finish call carries (ARGV[9] ends, 4 arguments each from ARGV[11]). */
function endIds(args: (string | number)[]): string[] {
  const ids: string[] = [];
  for (let i = 0; i < Number(args[8]); i++) ids.push(String(args[10 + 4 * i]));
  return ids;
}

/**
 * Makes the next `times` finish calls of the started `app` that carry an end fail without reaching
 * Redis, with a script error (not a connection error); returns how many failed so far.
 */
function failFinish(app: QTasks, times: number): () => number {
  const link = (app.storage as RedisStorage).link;
  let failed = 0;
  /** True when this finish call is to fail (it carries an end and failures are left). */
  const fails = (args: (string | number)[]): boolean => failed < times && endIds(args).length > 0 && ++failed > 0;
  const oom = () => Promise.reject(new Error('ERR Error running script (call to f_0): @user_script:1: OOM command not allowed when used memory > maxmemory'));
  const wrap =
    (fn: ScriptFn): ScriptFn =>
    (keys, args) =>
      fails(args) ? oom() : fn(keys, args);
  const script = link.script.bind(link);
  const scriptOn = link.scriptOn.bind(link);
  const scriptThen = link.scriptThen.bind(link);
  link.script = (name) => (name === 'finish' ? wrap(script(name)) : script(name));
  link.scriptOn = (pipe, name) => (name === 'finish' ? wrap(scriptOn(pipe, name)) : scriptOn(pipe, name));
  // an idle worker's call goes out with its next pop behind it: the pop is sent either way
  link.scriptThen = (conn, name, keys, args, then) => {
    if (name !== 'finish' || !fails(args)) return scriptThen(conn, name, keys, args, then);
    then();
    return oom();
  };
  return () => failed;
}

describe('Redis engine: a finish call that fails (not a lost connection)', () => {
  const fx = redisQueueFixture('ff', FinishFailureTasks);

  async function runsNext(app: QTasks, label: string): Promise<void> {
    const h = await app.addTask('ff.echo', [label]);
    await expect(h.result({ timeout: 5_000 })).resolves.toBe(label);
    expect(runs.get(label)).toBe(1);
  }

  it('records the end once the call succeeds again: the task ran once', async () => {
    const app = fx.app({ config: { leaseMs: 60_000 } });
    await app.start();
    const failed = failFinish(app, 1);
    const label = `once-${fx.queue}`;
    const h = await app.addTask('ff.echo', [label]);
    await expect(h.result({ timeout: 5_000 })).resolves.toBe(label);
    expect(failed()).toBe(1);
    expect(runs.get(label)).toBe(1);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'success', attempt: 1 });
    await runsNext(app, `next-${fx.queue}`);
    expect(await app.manager.counts()).toMatchObject({ success: 2, process: 0, new: 0 });
  });

  it('gives the end up after a few failed calls: the task goes back to the queue and runs again', async () => {
    const app = fx.app({ config: { leaseMs: 1_000 } });
    await app.start();
    const failed = failFinish(app, FINISH_TRIES);
    const label = `given-${fx.queue}`;
    const h = await app.addTask('ff.echo', [label]);
    await expect(h.result({ timeout: 15_000 })).resolves.toBe(label);
    expect(failed()).toBe(FINISH_TRIES);
    // put back as a held task its worker did not know: neither a stall nor an attempt
    expect(runs.get(label)).toBe(2);
    const rec = await app.getTask(h.id);
    expect(rec).toMatchObject({ status: 'success', attempt: 1 });
    expect(rec?.stalls).toBeUndefined();
    await runsNext(app, `after-${fx.queue}`);
    expect(await app.manager.counts()).toMatchObject({ success: 2, process: 0, new: 0 });
  });
});
