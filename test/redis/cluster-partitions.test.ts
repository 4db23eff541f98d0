/**
 * A queue split over partitions on a real Redis Cluster (6 private nodes: 3 masters, 3 replicas):
 * its tasks live on every master, the manager and handles see the whole queue, and a planned
 * failover of one partition's master while tasks run loses and fails nothing.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { ErrorCodes, QTasks, Task, TaskContext } from 'qtasks';
import { partitionOf, partitionTags } from 'qtasks/redis';
import { clusterNodes, startTestCluster, TestCluster } from '../support/redis-cluster';
import { waitFor } from './redis-support';
import { RedisLink } from '../../src/engines/redis/redis-link';
import { idOnPartition } from '../support/partition-ids';

const K = 3;
let cluster: TestCluster | undefined;
const held = new Set<string>();

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** The tasks of these tests (method form: each receives its TaskContext). */
class ClusterPartTasks {
  @Task({ name: 'cp.double' })
  async double(i: number): Promise<number> {
    await new Promise((r) => setTimeout(r, 2));
    return i * 2;
  }

  @Task({ name: 'cp.hold' })
  async hold(ctx: TaskContext): Promise<string> {
    held.add(ctx.id);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    return 'aborted';
  }
}

const apps: QTasks[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  held.clear();
});

function app(name: string, concurrency?: number): QTasks {
  if (!cluster) throw new Error('The test Redis Cluster did not start');
  const a = new QTasks({
    name,
    redis: { cluster: cluster.startNodes },
    queues: { [name]: { partitions: K } },
    concurrency,
    discover: false,
    config: { logLevel: 'silent', shutdownTimeoutMs: 2_000 },
  }).register(ClusterPartTasks);
  apps.push(a);
  return a;
}

function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
}

describe('Redis Cluster: the test cluster', () => {
  it('keeps each node’s files apart, and every replica holds exactly its master’s keys', async () => {
    const c = cluster!;
    // a replica loads its first sync from <dir>/dump.rdb: a shared directory let one load another's
    const dirs = c.nodes.map((n) => redisCli(n.port, 'config', 'get', 'dir').trim().split('\n')[1]);
    expect(new Set(dirs).size).toBe(6);
    const name = `cp-copy-${Date.now()}`;
    const producer = app(name);
    await producer.addTasks(Array.from({ length: 60 }, (_, i) => ({ name: 'cp.double', args: [i] })));
    const view = await clusterNodes(c.nodes[0].port);
    const replicas = view.filter((n) => !n.master && !n.fail);
    expect(replicas).toHaveLength(3);
    for (const r of replicas) {
      const m = view.find((n) => n.id === r.masterId)!;
      const keysOf = (port: number) => redisCli(port, '--scan', '--pattern', `qtasks:{${name}~*`).trim().split('\n').filter(Boolean).sort();
      expect(keysOf(m.port).length).toBeGreaterThan(10);
      // replication is asynchronous: the copy is complete within a moment
      await waitFor(() => keysOf(r.port).join() === keysOf(m.port).join(), `replica ${r.port} to hold the keys of master ${m.port}`, 5_000).catch(() => undefined);
      expect(keysOf(r.port)).toEqual(keysOf(m.port));
    }
  }, 60_000);
});

describe('Redis Cluster: redirections', () => {
  it('a script queued on a pipeline answers its caller with the reply of the node a MOVED led to', async () => {
    // a finish call queued with the worker's pop, an enqueue with the claim behind it: a failover
    // answers them MOVED first; the caller must not take that for their reply (the call ran on the
    // new master: its ends were kept in 'process' by a worker that thought them failed)
    const c = cluster!;
    const link = new RedisLink({ cluster: c.startNodes }, 5_000);
    try {
      await link.whenReady();
      const base = `qtasks:{cp-moved-${Date.now()}}:`;
      const owner = await c.masterOf(base + 'cnt');
      const other = (await clusterNodes(c.nodes[0].port)).find((n) => n.master && !n.fail && n.port !== owner)!.port;
      const slot = Number(redisCli(owner, 'cluster', 'keyslot', base + 'cnt').trim());
      // the client's slot table says another master, as just after a failover
      (link.cmd as unknown as { slots: string[][] }).slots[slot] = [`127.0.0.1:${other}`];
      const pipe = link.cmd.pipeline();
      const call = link.scriptOn(pipe, 'counts')([base + 'cnt', base + 'd:s', base + 'd:e', base + 'd:c', base + 'all'], [base + 't:']);
      pipe.exec().catch(() => undefined);
      await expect(call).resolves.toHaveLength(8);
    } finally {
      await link.close();
    }
  }, 30_000);
});

describe('Redis Cluster: partitioned queue', () => {
  it('puts its partitions on every master, and the manager counts and lists them all', async () => {
    const c = cluster!;
    const name = `cp-spread-${Date.now()}`;
    const producer = app(name);
    const handles = await producer.addTasks(Array.from({ length: 300 }, (_, i) => ({ name: 'cp.double', args: [i] })));
    const masters = (await clusterNodes(c.nodes[0].port)).filter((n) => n.master && !n.fail).map((n) => n.port);
    expect(masters).toHaveLength(3);
    // every master holds task records of the queue, and only of its own partition
    const tags = partitionTags(name, K);
    const owners = await Promise.all(tags.map((t) => c.masterOf(`qtasks:{${t}}:meta`)));
    expect(new Set(owners).size).toBe(3);
    for (const port of masters) {
      const p = owners.indexOf(port);
      const keys = redisCli(port, '--scan', '--pattern', `qtasks:{${name}~*}:t:*`).trim().split('\n').filter(Boolean);
      const expected = handles.filter((h) => partitionOf(h.id, K) === p).map((h) => `qtasks:{${tags[p]}}:t:${h.id}`);
      expect(expected.length).toBeGreaterThan(50);
      expect(keys.sort()).toEqual(expected.sort());
    }
    expect((await producer.manager.counts()).new).toBe(300);
    expect(await producer.manager.list({ limit: 1_000 })).toHaveLength(300);
    const worker = app(name, 20);
    await worker.start();
    expect(await Promise.all(handles.map((h) => h.result({ timeout: 30_000 })))).toEqual(handles.map((_, i) => i * 2));
    expect(await producer.manager.counts()).toMatchObject({ success: 300, new: 0 });
    expect(await producer.manager.workers()).toHaveLength(1);
  }, 60_000);

  it('cancels a running task on any master from a producer app', async () => {
    const name = `cp-cancel-${Date.now()}`;
    const producer = app(name);
    const worker = app(name, 10);
    await worker.start();
    // two on each partition (ids chosen so: random ids could leave one partition out)
    const hs = await producer.addTasks(Array.from({ length: 6 }, (_, i) => ({ name: 'cp.hold', args: [], opts: { id: idOnPartition(`${name}-h${i}`, i % K, K) } })));
    expect(new Set(hs.map((h) => partitionOf(h.id, K))).size).toBe(K);
    await waitFor(() => held.size === 6, 'every held task to run', 10_000);
    for (const h of hs) expect(await producer.cancel(h.id, 'stop')).toBe(true);
    for (const h of hs) await expect(h.result({ timeout: 10_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await producer.manager.counts()).toMatchObject({ cancel: 6 });
  }, 60_000);

  it('a planned failover of one partition’s master while tasks run loses and fails nothing', async () => {
    const c = cluster!;
    const name = `cp-fo-${Date.now()}`;
    const producer = app(name);
    const worker = app(name, 20);
    const key = `qtasks:{${partitionTags(name, K)[1]}}:meta`;
    const master = await c.masterOf(key);
    const [replica] = await c.replicasOf(master);
    expect(replica).toBeDefined();
    const handles = await producer.addTasks(Array.from({ length: 1500 }, (_, i) => ({ name: 'cp.double', args: [i] })));
    await worker.start();
    await waitFor(async () => (await producer.manager.counts()).success > 100, 'the first successes', 20_000);
    redisCli(replica, 'cluster', 'failover');
    await waitFor(async () => (await c.masterOf(key)) === replica, 'the replica to take over', 20_000);
    const results = await Promise.all(handles.map((h) => h.result({ timeout: 60_000 })));
    expect(results).toEqual(handles.map((_, i) => i * 2));
    expect(await producer.manager.counts()).toMatchObject({ success: 1500, error: 0 });
    const after = await producer.addTasks(Array.from({ length: 6 }, (_, i) => ({ name: 'cp.double', args: [i] })));
    expect(await Promise.all(after.map((h) => h.result({ timeout: 20_000 })))).toEqual([0, 2, 4, 6, 8, 10]);
  }, 120_000);
});
