/**
 * Bad input around arguments and results: non-JSON args refused at addTask, Date args stored as
 * ISO strings, non-JSON results failing the task, addTask after close, typed result() errors.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, QTasksError, Task, TaskCancelledError, TaskFailedError } from 'qtasks';

class SerTasks {
  @Task({ name: 'ser.echo' })
  echo(value: unknown) {
    return { value, type: typeof value };
  }

  @Task({ name: 'ser.badResult', retry: 2 })
  badResult(kind: string): unknown {
    if (kind === 'bigint') return 10n;
    if (kind === 'function') return { f: () => 1 };
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    return cycle;
  }

  @Task({ name: 'ser.throwValue' })
  throwValue(kind: string) {
    if (kind === 'string') throw 'plain string';
    if (kind === 'object') throw { code: 'E_OBJ', message: 'error-like', name: 'LibError' };
    throw undefined;
  }

  @Task({ name: 'ser.fail' })
  fail() {
    throw Object.assign(new Error('nope'), { code: 'E_SER' });
  }
}

describe('serialization and bad input', () => {
  let app: QTasks;
  beforeEach(async () => {
    app = new QTasks({ name: `ser-${Date.now()}`, discover: false, config: { logLevel: 'silent' } }).register(SerTasks);
  });
  afterEach(() => app.close());

  it('refuses functions, BigInt, cycles and symbols in args with QTASKS_ERR_NOT_SERIALIZABLE', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const bad: unknown[] = [() => 1, 10n, cycle, Symbol('s'), { deep: [{ fn() {} }] }, [1, [2, 5n]]];
    for (const value of bad) {
      const err = await app.addTask('ser.echo', [value]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QTasksError);
      expect(err).toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE });
    }
    await expect(app.addTask('ser.echo', 'x' as unknown as unknown[])).rejects.toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE });
    await expect(app.addTasks([{ name: 'ser.echo', args: [1] }, { name: 'ser.echo', args: [10n] }])).rejects.toMatchObject({
      code: ErrorCodes.NOT_SERIALIZABLE,
    });
    expect(await app.manager.list()).toEqual([]);
  });

  it('a Date argument becomes its ISO string', async () => {
    await app.start();
    const when = new Date('2025-01-02T03:04:05.678Z');
    const h = await app.addTask('ser.echo', [when]);
    expect(await h.result({ timeout: 2_000 })).toEqual({ value: '2025-01-02T03:04:05.678Z', type: 'string' });
    expect((await app.getTask(h.id))?.args).toEqual(['2025-01-02T03:04:05.678Z']);
  });

  it('arguments are copied at addTask: later changes by the caller are not seen', async () => {
    const arg = { n: 1 };
    const h = await app.addTask('ser.echo', [arg]);
    arg.n = 2;
    await app.start();
    expect(await h.result({ timeout: 2_000 })).toEqual({ value: { n: 1 }, type: 'object' });
  });

  it('a result that is not JSON fails the task with QTASKS_ERR_NOT_SERIALIZABLE, without retries', async () => {
    await app.start();
    for (const kind of ['bigint', 'function', 'cycle']) {
      const h = await app.addTask('ser.badResult', [kind]);
      const err = await h.result({ timeout: 2_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause.code).toBe(ErrorCodes.NOT_SERIALIZABLE);
      expect(await app.getTask(h.id)).toMatchObject({ status: 'error', attempt: 1 });
    }
  });

  it('result() of a failed task throws TaskFailedError with the recorded error in .cause', async () => {
    await app.start();
    const h = await app.addTask('ser.fail');
    const err = await h.result({ timeout: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: 'E_SER', message: 'nope', name: 'Error' } });
  });

  it('thrown values that are not Errors are recorded as errors, keeping message and code', async () => {
    await app.start();
    const cases: [string, object][] = [
      ['string', { name: 'Error', message: 'plain string' }],
      ['object', { name: 'LibError', message: 'error-like', code: 'E_OBJ' }],
      ['undefined', { name: 'Error' }],
    ];
    for (const [kind, expected] of cases) {
      const h = await app.addTask('ser.throwValue', [kind]);
      const err = await h.result({ timeout: 2_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause).toMatchObject(expected);
    }
  });

  it('result() of a cancelled task throws TaskCancelledError', async () => {
    const h = await app.addTask('ser.echo', [1]);
    await h.cancel('changed my mind');
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect(err).toMatchObject({ code: ErrorCodes.TASK_CANCELLED, reason: 'changed my mind' });
  });

  it('addTask of an unknown name rejects QTASKS_ERR_TASK_NOT_FOUND; after close() QTASKS_ERR_CLOSED', async () => {
    await expect(app.addTask('ser.nope')).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
    await app.start();
    await app.close();
    await expect(app.addTask('ser.echo', [1])).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    await expect(app.addTasks([{ name: 'ser.echo', args: [1] }])).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    await expect(app.start()).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
  });
});
