/**
 * Extensions on Redis: two worker processes running the same timers enqueue each tick once, and a
 * tick won as close() begins is still enqueued; a rate limit is shared by two apps of one queue; a
 * run joins its producer's trace through the record.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { QTasks, Task } from 'qtasks';
import { TracingPlugin } from 'qtasks/observability/otel';
import { ensureRedis as assertRedisReachable, REDIS_URL } from '../redis/redis-support';

const PREFIX = `qt-test-${process.pid}-${Date.now().toString(36)}`;

async function keys(pattern: string, del = false): Promise<string[]> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      found.push(...batch);
      if (del && batch.length > 0) await client.del(...batch);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return found;
}

interface ChildStats {
  attempts: number;
  won: number;
}

/** Starts a timer worker process; `stop()` closes its stdin, which makes it close its app and exit. */
function runWorker(queue: string): { ready: Promise<void>; stop: () => void; done: Promise<ChildStats> } {
  // the executors' .ts loader: swc with decorator metadata, cached on disk (ts-node takes seconds per start)
  const child = spawn(process.execPath, ['-r', join(__dirname, '..', '..', 'src', 'executor', 'ts-register.cjs'), join(__dirname, 'fixtures', 'timer-worker.ts')], {
    env: { ...process.env, REDIS_URL, QUEUE: queue, PREFIX },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += String(d);
    if (out.includes('ready\n')) onReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const done = new Promise<ChildStats>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`timer worker exited ${code}: ${err}`));
      const line = out.trim().split('\n').pop()!;
      resolve(JSON.parse(line) as ChildStats);
    });
  });
  return { ready, stop: () => child.stdin.end(), done };
}

let starts: number[] = [];

class SharedTasks {
  @Task({ name: 'rx.limited', rateLimit: { max: 2, per: 400 } })
  limited(i: number) {
    starts.push(Date.now());
    return i;
  }

  @Task({ name: 'rx.traced' })
  traced() {
    return 'ok';
  }
}

describe('extensions on Redis', () => {
  const apps: QTasks[] = [];
  const queues: string[] = [];
  const make = (queue: string) => {
    const app = new QTasks({ name: queue, redis: REDIS_URL, discover: false, concurrency: 4, config: { prefix: PREFIX, logLevel: 'silent' } });
    app.register(SharedTasks);
    apps.push(app);
    return app;
  };
  const queue = (label: string) => {
    const q = `${label}-${Date.now().toString(36)}`;
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    await assertRedisReachable();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    for (const q of queues.splice(0)) await keys(`${PREFIX}:{${q}}*`, true);
  });
  afterAll(async () => {
    // the prefix's own keys (the set of queue names) go too: the prefix is this file's alone
    await keys(`${PREFIX}:*`, true);
  });

  it('enqueues each timer tick once with two worker processes', async () => {
    const q = queue('timers');
    const a = runWorker(q);
    const b = runWorker(q);
    await Promise.race([Promise.all([a.ready, b.ready]), a.done, b.done]);
    await new Promise((r) => setTimeout(r, 2_200));
    a.stop();
    b.stop();
    const [sa, sb] = await Promise.all([a.done, b.done]);
    const locks = await keys(`${PREFIX}:{${q}}:lock:timer:*`);
    const producer = new QTasks({ name: q, redis: REDIS_URL, discover: false, config: { prefix: PREFIX, logLevel: 'silent' } });
    apps.push(producer);
    const records = [...(await producer.manager.list({ name: 'tm2.every', limit: 1_000 })), ...(await producer.manager.list({ name: 'tm2.cron', limit: 1_000 }))];
    // both processes tried ticks; exactly one won each tick, and each win enqueued one task
    expect(sa.attempts).toBeGreaterThan(0);
    expect(sb.attempts).toBeGreaterThan(0);
    expect(sa.attempts + sb.attempts).toBeGreaterThan(locks.length);
    expect(sa.won + sb.won).toBe(locks.length);
    expect(records.length).toBe(locks.length);
    expect(records.filter((r) => r.name === 'tm2.cron').length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('enqueues the task of a tick that won its lock as close() began (no other process runs that tick)', async () => {
    const q = queue('closing');
    const app = make(q);
    const lock = app.broker.tryLock.bind(app.broker);
    let won = 0;
    let firstWon: () => void = () => undefined;
    const wonOnce = new Promise<void>((r) => (firstWon = r));
    let go: () => void = () => undefined;
    const gate = new Promise<void>((r) => (go = r));
    app.broker.tryLock = async (key, ttl) => {
      const got = await lock(key, ttl);
      if (got && won++ === 0) {
        // the first won tick answers only once close() has begun
        firstWon();
        await gate;
      }
      return got;
    };
    app.timer.every(100, 'rx.traced');
    await app.start();
    await wonOnce;
    const closing = app.close();
    go();
    await closing;
    const producer = make(q);
    const records = await producer.manager.list({ name: 'rx.traced', limit: 100 });
    expect(won).toBeGreaterThanOrEqual(1);
    expect(records.length).toBe(won);
  });

  it('shares a rate limit between two apps of one queue', async () => {
    starts = [];
    const q = queue('rate');
    const one = make(q);
    const two = make(q);
    await Promise.all([one.start(), two.start()]);
    const handles = await one.addTasks([0, 1, 2, 3, 4, 5].map((i) => ({ name: 'rx.limited', args: [i] })));
    expect((await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })))).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    starts.sort((x, y) => x - y);
    // a start is granted at the time sent to Redis, and the body starts after the reply: allow that lag
    for (let i = 0; i + 2 < starts.length; i++) expect(starts[i + 2] - starts[i]).toBeGreaterThanOrEqual(400 - 100);
  });

  it('links a run to the producer span through the record kept in Redis', async () => {
    const q = queue('trace');
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const producer = make(q).plugin(new TracingPlugin({ tracerProvider: provider }));
    const worker = make(q).plugin(new TracingPlugin({ tracerProvider: provider }));
    await worker.start();
    const h = await producer.addTask('rx.traced');
    expect(await h.result({ timeout: 5_000 })).toBe('ok');
    const send = exporter.getFinishedSpans().find((s) => s.name === 'rx.traced send')!;
    const run = exporter.getFinishedSpans().find((s) => s.name === 'rx.traced process')!;
    expect(run.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(run.spanContext().traceId).toBe(send.spanContext().traceId);
    await provider.shutdown();
  });
});
