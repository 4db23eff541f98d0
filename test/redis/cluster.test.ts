/**
 * The Redis engine on a real Redis Cluster (6 private nodes: 3 masters, 3 replicas): the shared
 * broker and storage suites with no CROSSSLOT (also for the batched sweeps, retention and due
 * delayed tasks), a planned failover while tasks run (nothing lost, nothing failed), a SIGKILLed
 * master (the queue goes on once its replica is promoted), and the WAIT-based durable enqueue.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { ErrorCodes, QTasks, Task } from 'qtasks';
import { brokerConformance } from 'qtasks/conformance';
import { storageConformance } from 'qtasks/conformance';
import { clusterNodes, startTestCluster, TestCluster, waitClusterOk } from '../support/redis-cluster';
import { waitFor } from './redis-support';

let cluster: TestCluster | undefined;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Apps a test made, closed after it. */
const apps: QTasks[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function clusterApp(spec: { name: string; concurrency?: number; config?: Record<string, unknown> }, extra: Record<string, unknown> = {}): QTasks {
  if (!cluster) throw new Error('The test Redis Cluster did not start');
  return new QTasks({
    name: spec.name,
    redis: { cluster: cluster.startNodes, ...extra },
    concurrency: spec.concurrency,
    discover: false,
    config: { logLevel: 'silent', ...spec.config },
  });
}

describe('Redis Cluster: shared suites', () => {
  brokerConformance('redis-cluster', (spec) => clusterApp(spec), undefined, { sharedQueue: true });
  storageConformance('redis-cluster', (spec) => clusterApp(spec), undefined, { sharedQueue: true });
});

@Task({ name: 'cl.slow' })
class Slow {
  async run(i: number): Promise<number> {
    await new Promise((r) => setTimeout(r, 2));
    return i * 2;
  }
}

function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
}

describe('Redis Cluster: durable enqueue', () => {
  it('waitReplicas: an enqueue resolves once a replica holds it', async () => {
    const name = `cl-wait-${Date.now()}`;
    const app = clusterApp({ name }, { waitReplicas: 1, waitTimeoutMs: 5_000 }).register(Slow);
    apps.push(app);
    await app.start();
    const h = await app.addTask('cl.slow', [3]);
    expect(await h.result({ timeout: 10_000 })).toBe(6);
  }, 30_000);

  it('waitReplicas beyond the replicas there are rejects BROKER_UNAVAILABLE, the task stays queued', async () => {
    const name = `cl-wait2-${Date.now()}`;
    const app = clusterApp({ name }, { waitReplicas: 3, waitTimeoutMs: 200 }).register(Slow);
    apps.push(app);
    const err = await app.addTask('cl.slow', [4], { id: 'kept' }).catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).toBe(ErrorCodes.BROKER_UNAVAILABLE);
    expect((await app.getTask('kept'))?.status).toBe('new');
  }, 30_000);
});

describe('Redis Cluster: sweeps and retention', () => {
  it('retention, due delayed tasks and the sweep of expired records keep their many-key commands in the queue slot', async () => {
    const name = `cl-sweep-${Date.now()}`;
    const app = clusterApp({ name, concurrency: 20, config: { resultTtlMs: 300 } }).register(Slow);
    apps.push(app);
    await app.start();
    const hs = await app.addTasks([
      ...Array.from({ length: 30 }, (_, i) => ({ name: 'cl.slow', args: [i], opts: { removeOnComplete: 5 } })),
      ...Array.from({ length: 30 }, (_, i) => ({ name: 'cl.slow', args: [100 + i] })),
      ...Array.from({ length: 20 }, (_, i) => ({ name: 'cl.slow', args: [200 + i], opts: { delay: 50 } })),
    ]);
    const results = await Promise.all(hs.map((h) => h.result({ timeout: 10_000 })));
    expect(results).toEqual(hs.map((_, i) => (i < 30 ? i : i < 60 ? 100 + i - 30 : 200 + i - 60) * 2));
    // past the ttl every record is gone, and the sweeps take their ids out of the lists and the index
    await new Promise((r) => setTimeout(r, 500));
    await waitFor(async () => (await app.manager.counts()).success === 0, 'the expired records swept');
    expect(await app.manager.list()).toEqual([]);
  }, 30_000);
});

describe('Redis Cluster: failover', () => {
  it('a planned failover (CLUSTER FAILOVER on a replica) while tasks run loses and fails nothing', async () => {
    const c = cluster!;
    const name = `cl-fo-${Date.now()}`;
    const producer = clusterApp({ name }).register(Slow);
    const worker = clusterApp({ name, concurrency: 20 }).register(Slow);
    apps.push(producer, worker);
    const master = await c.masterOf(`qtasks:{${name}}:meta`);
    const [replica] = await c.replicasOf(master);
    expect(replica).toBeDefined();
    const handles = await producer.addTasks(Array.from({ length: 1500 }, (_, i) => ({ name: 'cl.slow', args: [i] })));
    await worker.start();
    await waitFor(async () => (await producer.manager.counts()).success > 100, 'the first successes', 20_000);
    redisCli(replica, 'cluster', 'failover');
    await waitFor(async () => (await c.masterOf(`qtasks:{${name}}:meta`)) === replica, 'the replica to take over', 20_000);
    const results = await Promise.all(handles.map((h) => h.result({ timeout: 60_000 })));
    expect(results).toEqual(handles.map((_, i) => i * 2));
    const counts = await producer.manager.counts();
    expect(counts.success).toBe(1500);
    expect(counts.error).toBe(0);
    // a task enqueued after the failover runs too
    expect(await (await producer.addTask('cl.slow', [21])).result({ timeout: 20_000 })).toBe(42);
  }, 120_000);

  it('a SIGKILLed master: its replica is promoted, the queue goes on, and no enqueue confirmed by waitReplicas is lost', async () => {
    const c = cluster!;
    const name = `cl-kill-${Date.now()}`;
    const config = { connectTimeoutMs: 20_000 };
    const worker = clusterApp({ name, concurrency: 10, config }).register(Slow);
    const durable = clusterApp({ name, config }, { waitReplicas: 1, waitTimeoutMs: 2_000 }).register(Slow);
    apps.push(worker, durable);
    await worker.start();
    const before = await Promise.all((await worker.addTasks(Array.from({ length: 50 }, (_, i) => ({ name: 'cl.slow', args: [i] })))).map((h) => h.result({ timeout: 20_000 })));
    expect(before).toHaveLength(50);
    const master = await c.masterOf(`qtasks:{${name}}:meta`);
    const [replica] = await c.replicasOf(master);
    expect(replica).toBeDefined();
    // durable enqueues go on while the master dies: every one that resolved must survive
    const confirmed: string[] = [];
    let stop = false;
    const feeding = (async () => {
      for (let i = 0; !stop && !durable.isClosed; i++) {
        const h = await durable.addTask('cl.slow', [i], { delay: 60_000 }).catch(() => undefined);
        if (h) confirmed.push(h.id);
        else await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await waitFor(() => confirmed.length >= 20, 'durable enqueues before the kill', 10_000);
      c.nodes.find((n) => n.port === master)!.proc.kill('SIGKILL');
      await waitFor(async () => (await c.masterOf(`qtasks:{${name}}:meta`).catch(() => master)) === replica, 'the replica to be promoted', 60_000).catch(async (e: Error) => {
        // what the live nodes think, to tell a slow election from a stuck one
        const views = await Promise.all(c.nodes.filter((n) => n.port !== master).map((n) => clusterNodes(n.port).then((v) => `${n.port}: ${JSON.stringify(v)}`, () => `${n.port}: no answer`)));
        throw new Error(`${e.message} (killed ${master}, replica ${replica})\n${views.join('\n')}`);
      });
      await waitClusterOk(c.nodes.filter((n) => n.port !== master).map((n) => n.port), 30_000);
      // the promoted replica has no replica of its own: durable enqueues are refused from now on
    } finally {
      stop = true;
      await feeding;
    }
    const records = await Promise.all(confirmed.map((id) => worker.getTask(id)));
    expect(confirmed.length).toBeGreaterThanOrEqual(20);
    expect(records.filter((r) => r === undefined)).toHaveLength(0);
    await expect(durable.addTask('cl.slow', [1])).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });
    const after = await worker.addTask('cl.slow', [5]);
    expect(await after.result({ timeout: 30_000 })).toBe(10);
  }, 150_000);
});
