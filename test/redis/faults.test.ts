/**
 * Faults on the Redis engine: a worker process killed mid-task (its tasks finish elsewhere, or end
 * QTASKS_ERR_STALLED after maxStalls), connections dropped with CLIENT KILL, and a private Redis
 * server killed and restarted (workers reconnect; producers get QTASKS_ERR_BROKER_UNAVAILABLE fast).
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import IORedis from 'ioredis';
import { ErrorCodes, QTasks, TaskFailedError } from 'qtasks';
import { ChildWorker, registerFixtureTasks, startWorkers } from './child-workers';
import { deleteKeys, ensureRedis, REDIS_URL, redisApp, testPrefix, waitFor } from './redis-support';

jest.setTimeout(90_000);

let seq = 0;

describe('Redis engine under faults', () => {
  let prefix: string;
  let queue: string;
  let workers: ChildWorker[] = [];
  let apps: QTasks[] = [];
  let server: ChildProcess | undefined;

  beforeAll(() => ensureRedis());
  beforeEach(() => {
    prefix = testPrefix('ft');
    queue = `ft${++seq}`;
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
    for (const app of apps) await app.close();
    apps = [];
    const srv = server;
    server = undefined;
    if (srv && srv.exitCode === null) {
      const gone = new Promise((r) => srv.once('exit', r));
      srv.kill('SIGKILL');
      await gone;
    }
    await deleteKeys(prefix);
  });

  const env = (extra: Record<string, string> = {}) => ({ QT_PREFIX: prefix, QT_QUEUE: queue, ...extra });
  const producer = (url = REDIS_URL, connectTimeoutMs = 5_000) => {
    const app = registerFixtureTasks(redisApp({ name: queue, prefix, url, config: { connectTimeoutMs } }));
    apps.push(app);
    return app;
  };

  it('finishes every task when a worker process is killed with SIGKILL mid-task', async () => {
    workers = await startWorkers(2, env({ QT_CONCURRENCY: '3', QT_LEASE_MS: '600' }));
    const app = producer();
    const handles = await app.addTasks(Array.from({ length: 18 }, (_, i) => ({ name: 'it.record', args: [i, 150] })));
    const victim = workers[0];
    await waitFor(() => victim.runs().length >= 2, 'the first worker to start tasks');
    await victim.kill('SIGKILL');
    const results = (await Promise.all(handles.map((h) => h.result({ timeout: 30_000 })))) as { label: number }[];
    expect(results.map((r) => r.label)).toEqual(Array.from({ length: 18 }, (_, i) => i));
    const counts = await app.manager.counts();
    expect(counts).toMatchObject({ success: 18, process: 0, new: 0 });
    // whatever the victim had started and not finished ran again on the survivor
    const survivorIds = new Set(workers[1].runs().map((r) => r.id));
    const victimIds = victim.runs().map((r) => r.id!);
    const rerun = victimIds.filter((id) => survivorIds.has(id));
    for (const id of rerun) expect((await app.getTask(id))?.stalls).toBe(1);
  });

  it('ends a task QTASKS_ERR_STALLED when its lease expires more than maxStalls times', async () => {
    workers = await startWorkers(1, env({ QT_LEASE_MS: '400', QT_MAX_STALLS: '0' }));
    const app = producer();
    const h = await app.addTask('it.record', ['doomed', 60_000]);
    await waitFor(() => workers[0].runs(h.id).length === 1, 'the task to start');
    await workers[0].kill('SIGKILL');
    // a live worker sweeps expired leases
    workers.push(...(await startWorkers(1, env({ QT_LEASE_MS: '400', QT_MAX_STALLS: '0' }))));
    const err = await h.result({ timeout: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).cause).toMatchObject({ code: ErrorCodes.STALLED });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'error', stalls: 1 });
  });

  it('reconnects a worker whose connections were killed (CLIENT KILL) and goes on', async () => {
    workers = await startWorkers(1, env({ QT_LEASE_MS: '1000' }));
    const app = producer();
    const first = await app.addTask('it.record', ['before']);
    await first.result({ timeout: 5_000 });
    const admin = new IORedis(REDIS_URL);
    try {
      const list = (await admin.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((l) => l.includes(`name=qtasks:`) && l.includes(`:${workers[0].pid} `))
        .map((l) => /id=(\d+)/.exec(l)![1]);
      expect(ids.length).toBeGreaterThanOrEqual(3);
      for (const id of ids) await admin.client('KILL', 'ID', id);
    } finally {
      admin.disconnect();
    }
    const handles = await app.addTasks(Array.from({ length: 10 }, (_, i) => ({ name: 'it.record', args: [`after-${i}`] })));
    await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })));
    await waitFor(() => workers[0].runs().length === 11, 'the worker to report 11 runs');
    // the killed subscriber came back too: the worker still hears cancel requests
    const long = await app.addTask('it.record', ['long', 20_000]);
    await waitFor(() => workers[0].runs(long.id).length === 1, 'the long task to start');
    expect(await app.cancel(long.id)).toBe(true);
    await expect(long.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
  });

  it('survives a Redis restart: producers get BROKER_UNAVAILABLE while it is down, workers reconnect', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    server = await startRedis(port);
    await ensureRedis(url);
    workers = await startWorkers(1, { ...env({ QT_LEASE_MS: '1000' }), REDIS_URL: url });
    const app = producer(url, 500);
    const before = await app.addTask('it.record', ['before']);
    await before.result({ timeout: 5_000 });

    server.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    const t0 = Date.now();
    await expect(app.addTask('it.record', ['down'])).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });
    expect(Date.now() - t0).toBeLessThan(3_000);
    await expect(app.getTask(before.id)).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });

    server = await startRedis(port);
    const after = await retry(() => app.addTask('it.record', ['after']), 10_000);
    expect(await after.result({ timeout: 10_000 })).toMatchObject({ label: 'after' });
    await waitFor(() => workers[0].runs().length === 2, 'the worker to report its second run');
    expect(workers[0].runs().map((r) => r.label)).toEqual(['before', 'after']);
  });
});

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a private redis-server without persistence; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  await retry(() => portOpen(port), 10_000);
  await ensureRedis(`redis://127.0.0.1:${port}`);
  return proc;
}

/** Resolves once something accepts TCP connections on `port`. */
function portOpen(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve();
    });
    sock.once('error', (err) => {
      sock.destroy();
      reject(err);
    });
  });
}

async function retry<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
