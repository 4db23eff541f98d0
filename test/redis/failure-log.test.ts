/**
 * Loud failures on Redis: the worker whose lease round sweeps a dead worker's task logs the stall
 * at warn with id, name and QTASKS_ERR_STALLED; a failing task is warn.
 */
import 'reflect-metadata';
import { ConfigValues, ErrorCodes, QTasks, Task } from 'qtasks';
import { CapturingLogger } from '../support/capturing-logger';
import { ChildWorker, registerFixtureTasks, startWorkers } from './child-workers';
import { deleteKeys, ensureRedis, REDIS_URL, testPrefix, waitFor } from './redis-support';

class StallTasks {
  @Task({ name: 'st.echo' })
  echo(v: unknown): unknown {
    return v;
  }

  @Task({ name: 'st.fail' })
  fail(): never {
    throw Object.assign(new Error('bad'), { code: 'E_BAD' });
  }
}

describe('the worker logs stalls and failures at warn (Redis)', () => {
  const prefix = testPrefix('fl');
  const apps: QTasks[] = [];
  const workers: ChildWorker[] = [];
  const make = (name: string, logger?: CapturingLogger, config: Partial<ConfigValues> = {}): QTasks => {
    const app = new QTasks({ name, redis: REDIS_URL, discover: false, logger, config: { ...config, prefix, logLevel: 'silent' } }).register(StallTasks);
    apps.push(app);
    return app;
  };
  beforeAll(() => ensureRedis());
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    for (const app of apps.splice(0)) await app.close();
    await deleteKeys(prefix);
  });

  it('a stall is logged by the worker whose lease round found it', async () => {
    const queue = `fl${Date.now()}`;
    const victim = (await startWorkers(1, { QT_PREFIX: prefix, QT_QUEUE: queue, QT_LEASE_MS: '400' }))[0];
    workers.push(victim);
    const producer = registerFixtureTasks(make(queue));
    const h = await producer.addTask('it.record', ['doomed', 60_000]);
    await waitFor(() => victim.runs(h.id).length === 1, 'the task to start');
    await victim.kill('SIGKILL');
    const logger = new CapturingLogger();
    const sweeper = registerFixtureTasks(make(queue, logger, { leaseMs: 400, maxStalls: 0 }));
    await sweeper.start();
    await expect(h.result({ timeout: 10_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.STALLED } });
    await waitFor(() => logger.at('warn').length > 0, 'the stall to be logged');
    expect(logger.at('warn')).toEqual([expect.objectContaining({ id: h.id, name: 'it.record', code: ErrorCodes.STALLED, stalls: 1 })]);
  });

  it('a failing task is logged at warn by its worker', async () => {
    const logger = new CapturingLogger();
    const app = make(`fl${Date.now()}`, logger);
    await app.start();
    const failing = await app.addTask('st.fail');
    await expect(failing.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
    expect(logger.at('warn')).toEqual([expect.objectContaining({ id: failing.id, name: 'st.fail', code: 'E_BAD' })]);
  });
});
