/**
 * Workflows across processes on Redis: a producer in this process starts a chain and a chord, the
 * steps run in worker processes, and the worker holding a step is SIGKILLed: the step runs again
 * on another worker once its lease expires, and the workflow completes with nothing lost.
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

  it('completes a chain and a chord through a SIGKILL of the worker holding a step', async () => {
    const env = { QT_PREFIX: prefix, QT_QUEUE: queue, QT_LEASE_MS: '1000', QT_CONCURRENCY: '2' };
    const [doomed] = await startWorkers(1, env);
    producer = registerFixtureTasks(redisApp({ name: queue, prefix, config: { leaseMs: 1_000 } }));
    // it.record(label, ms) returns { label, pid }; a chained step gets that as an extra argument
    const h = await producer.run(chain(step('it.record', ['first', 5_000]), step('it.record', ['second']), group([step('it.record', ['g1']), step('it.record', ['g2'])])));
    await waitFor(() => doomed.runs().some((r) => r.label === 'first'), 'the first step to start in the doomed worker', 20_000);
    await doomed.kill('SIGKILL');
    const [rescuer] = await startWorkers(1, env);
    workers = [rescuer];
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
