/**
 * Loud failures: the worker logs every task that ends `error` or times out at `warn` with its id,
 * name and code; a retried failure is `info`; a success logs nothing at warn.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task } from 'qtasks';
import { CapturingLogger } from '../support/capturing-logger';

class LoudTasks {
  @Task({ name: 'loud.fail' })
  fail(): never {
    throw Object.assign(new Error('boom'), { code: 'E_BOOM' });
  }

  @Task({ name: 'loud.slow', timeout: 20 })
  async slow(): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
  }

  @Task({ name: 'loud.flaky', retry: 1 })
  flaky(): never {
    throw new Error('again');
  }

  @Task({ name: 'loud.ok' })
  ok(): number {
    return 1;
  }
}

describe('the worker logs failures at warn', () => {
  let app: QTasks;
  let logger: CapturingLogger;
  beforeEach(async () => {
    logger = new CapturingLogger();
    app = new QTasks({ name: `loud-${Date.now()}`, discover: false, logger }).register(LoudTasks);
    await app.start();
  });
  afterEach(() => app.close());

  it('a task that ends error: warn with id, name and code', async () => {
    const ok = await app.addTask('loud.ok');
    await ok.result({ timeout: 5_000 });
    expect(logger.at('warn')).toEqual([]);
    const h = await app.addTask('loud.fail');
    await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
    expect(logger.at('warn')).toEqual([expect.objectContaining({ id: h.id, name: 'loud.fail', code: 'E_BOOM' })]);
  });

  it('a timeout: warn with QTASKS_ERR_TASK_TIMEOUT', async () => {
    const h = await app.addTask('loud.slow');
    await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.TASK_TIMEOUT } });
    expect(logger.at('warn')).toEqual([expect.objectContaining({ id: h.id, name: 'loud.slow', code: ErrorCodes.TASK_TIMEOUT })]);
  });

  it('a failure that will be retried is info; the last one is warn', async () => {
    const h = await app.addTask('loud.flaky');
    await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
    expect(logger.at('info')).toContainEqual(expect.objectContaining({ id: h.id, name: 'loud.flaky', attempt: 1 }));
    expect(logger.at('warn')).toEqual([expect.objectContaining({ id: h.id, name: 'loud.flaky', attempt: 2, code: undefined, error: 'Error' })]);
  });
});
