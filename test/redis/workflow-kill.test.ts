/**
 * Workflows across processes on Redis: a producer in this process starts a chain and a chord, the
 * steps run in worker processes, and the worker holding a step is SIGKILLed: the step runs again
 * on another worker once its lease expires, and the workflow completes with nothing lost. A task
 * waiting for its children (`self.waitChildren()`) is held the same way: its worker's SIGKILL runs
 * it again from the start elsewhere.
 */
import 'reflect-metadata';
import { chain, group, QTasks, step } from 'qtasks';
import { ChildWorker, registerFixtureTasks, startWorkers } from './child-workers';
import { deleteKeys, ensureRedis, redisApp, testPrefix, waitFor } from './redis-support';

jest.setTimeout(60_000);

describe('workflows across worker processes on Redis', () => {
  const prefix = testPrefix('wfk');
  const queue = `wfk${Date.now().toString(36)}`;
  let workers: ChildWorker[] = [];
  let producer: QTasks | undefined;

  beforeAll(() => ensureRedis());
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await producer?.close();
    await deleteKeys(prefix);
  });

  it("runs a task waiting for its children again from the start after a SIGKILL of its worker (concurrency 1), losing nothing", async () => {
    const env = { QT_PREFIX: prefix, QT_QUEUE: `${queue}w`, QT_LEASE_MS: '1000', QT_CONCURRENCY: '1' };
    const [doomed] = await startWorkers(1, env);
    workers.push(doomed);
    const app = registerFixtureTasks(redisApp({ name: `${queue}w`, prefix, config: { leaseMs: 1_000 } }));
    try {
      const h = await app.addTask('it.fanout', [['c1', 'c2'], 1_500]);
      // the parent gave its only slot to its first child
      await waitFor(() => doomed.runs().some((r) => r.label === 'c1'), 'the first child to start in the doomed worker', 20_000);
      expect((await app.getTask(h.id))?.status).toBe('waiting');
      expect((await app.manager.counts()).waiting).toBe(1);
      await doomed.kill('SIGKILL');
      const [rescuer] = await startWorkers(1, env);
      workers.push(rescuer);
      const out = (await h.result({ timeout: 40_000 })) as { labels: string[]; pid: number };
      expect(out).toEqual({ labels: ['c1', 'c2'], pid: rescuer.pid });
      expect(await app.getTask(h.id)).toMatchObject({ status: 'success', attempt: 2, stalls: 1 });
      // the first attempt's children end too (its running child after its own stall): nothing stays behind
      await waitFor(async () => {
        const c = await app.manager.counts();
        return c.success === 5 && c.process + c.waiting + c.new + c.retry + c.error + c.cancel === 0;
      }, 'every task of both attempts to succeed', 20_000);
    } finally {
      await app.close();
    }
  });

  it('completes a chain and a chord through a SIGKILL of the worker holding a step', async () => {
    const env = { QT_PREFIX: prefix, QT_QUEUE: queue, QT_LEASE_MS: '1000', QT_CONCURRENCY: '2' };
    const [doomed] = await startWorkers(1, env);
    workers.push(doomed);
    producer = registerFixtureTasks(redisApp({ name: queue, prefix, config: { leaseMs: 1_000 } }));
    // it.record(label, ms) returns { label, pid }; a chained step gets that as an extra argument
    const h = await producer.run(chain(step('it.record', ['first', 5_000]), step('it.record', ['second']), group([step('it.record', ['g1']), step('it.record', ['g2'])])));
    await waitFor(() => doomed.runs().some((r) => r.label === 'first'), 'the first step to start in the doomed worker', 20_000);
    await doomed.kill('SIGKILL');
    const [rescuer] = await startWorkers(1, env);
    workers.push(rescuer);
    const out = (await h.result({ timeout: 40_000 })) as { label: string; pid: number }[];
    expect(out.map((r) => r.label)).toEqual(['g1', 'g2']);
    expect(out.every((r) => r.pid === rescuer.pid)).toBe(true);
    const first = rescuer.runs().filter((r) => r.label === 'first');
    expect(first).toHaveLength(1);
    expect(first[0].attempt).toBe(2);
    // every stage ran once in the rescuer: nothing enqueued twice
    expect(rescuer.runs().map((r) => r.label).sort()).toEqual(['first', 'g1', 'g2', 'second']);
    expect((await producer.manager.counts()).success).toBe(4);
  });
});
