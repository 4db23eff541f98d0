/**
 * Helpers of the Redis test suites: the server URL, a clear failure when it is unreachable,
 * unique key prefixes, key cleanup, and apps on the Redis engine.
 */
import 'reflect-metadata';
import IORedis from 'ioredis';
import { ConfigValues, QTasks, QTasksOptions } from 'qtasks';

/** The Redis the tests use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let counter = 0;

/** A key prefix unique to this process and call. */
export function testPrefix(label = 't'): string {
  return `qt-test-${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}

/** Throws a clear error when no Redis answers at {@link REDIS_URL}. */
export async function ensureRedis(url = REDIS_URL): Promise<void> {
  const r = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new Error(`The Redis tests need a Redis server at ${url} (set REDIS_URL to use another): ${(err as Error).message}`);
  } finally {
    r.disconnect();
  }
}

/** Deletes every key starting with `prefix`. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const r = new IORedis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    await r.quit().catch(() => r.disconnect());
  }
}

/**
 * Every key starting with `base` with its type, value and whether it expires, by the rest of its
 * name: two queues set up alike and run through different script paths compare equal.
 */
export async function dumpKeys(r: IORedis, base: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const keys = (await r.keys(base + '*')).sort();
  for (const k of keys) {
    const type = await r.type(k);
    const ttl = (await r.pttl(k)) > 0;
    let v: unknown;
    if (type === 'hash') v = await r.hgetall(k);
    else if (type === 'list') v = await r.lrange(k, 0, -1);
    else if (type === 'set') v = (await r.smembers(k)).sort();
    else if (type === 'zset') v = await r.zrange(k, 0, -1, 'WITHSCORES');
    else v = await r.get(k);
    out[k.slice(base.length)] = { type, v, ttl };
  }
  return out;
}

/** What {@link sameEffects} saw: each queue's reply, and the first queue's keys. */
export interface SameEffects {
  first: unknown;
  second: unknown;
  keys: Record<string, unknown>;
}

/**
 * Sets up the queues at `first` and `second` alike (`setUp`), runs one script call on each, in two
 * forms (`run(base, false)` on the first, `run(base, true)` on the second), and expects the same
 * reply and the same keys after: a fast or compact form of a call against its general form.
 */
export async function sameEffects(
  r: IORedis,
  first: string,
  second: string,
  setUp: (base: string) => Promise<void>,
  run: (base: string, secondForm: boolean) => Promise<unknown>,
): Promise<SameEffects> {
  await setUp(first);
  await setUp(second);
  const a = await run(first, false);
  const b = await run(second, true);
  expect(b).toEqual(a);
  const keys = await dumpKeys(r, first);
  expect(await dumpKeys(r, second)).toEqual(keys);
  return { first: a, second: b, keys };
}

/** Number of keys starting with `prefix`. */
export async function countKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const r = new IORedis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

/** An app on the Redis engine (`discover: false`, silent). */
export function redisApp(opts: { name: string; prefix: string; concurrency?: number; config?: Partial<ConfigValues>; url?: string; queues?: QTasksOptions['queues'] }): QTasks {
  return new QTasks({
    name: opts.name,
    redis: opts.url ?? REDIS_URL,
    concurrency: opts.concurrency,
    queues: opts.queues,
    discover: false,
    config: { logLevel: 'silent', ...opts.config, prefix: opts.prefix },
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it holds; throws after `timeoutMs` naming what it waited for. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A connection to the test Redis and a fresh key prefix per test, for tests that call scripts directly. */
export interface RedisScratch {
  /** Connected in `beforeAll`, closed in `afterAll`. */
  readonly r: IORedis;
  /** This test's key prefix (its keys are deleted after it). */
  readonly prefix: string;
}

/** Registers the hooks of a {@link RedisScratch} in the enclosing `describe`. */
export function redisScratch(label: string): RedisScratch {
  const r = new IORedis(REDIS_URL, { lazyConnect: true });
  let prefix = '';
  beforeAll(async () => {
    await ensureRedis();
    await r.connect();
  });
  afterAll(async () => {
    await r.quit();
  });
  beforeEach(() => {
    prefix = testPrefix(label);
  });
  afterEach(async () => {
    await deleteKeys(prefix);
  });
  return {
    r,
    get prefix() {
      return prefix;
    },
  };
}

/** One fresh queue and key prefix per test, the apps made on it (closed after each test) and an admin connection. */
export interface RedisQueueFixture {
  readonly prefix: string;
  readonly queue: string;
  readonly admin: IORedis;
  /** The key prefix of the queue's keys (`<prefix>:{<queue>}:`). */
  base(): string;
  /** An app on the queue with `tasks` registered, closed after the test. */
  app(opts?: { concurrency?: number; config?: Partial<ConfigValues> }): QTasks;
}

/** Registers the hooks of a {@link RedisQueueFixture} in the enclosing `describe`. */
export function redisQueueFixture(tag: string, tasks: new (...a: never[]) => unknown): RedisQueueFixture {
  let seq = 0;
  let prefix = '';
  let queue = '';
  let admin: IORedis | undefined;
  const apps: QTasks[] = [];
  beforeAll(async () => {
    await ensureRedis();
    admin = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(() => admin?.disconnect());
  beforeEach(() => {
    prefix = testPrefix(tag);
    queue = `${tag}${++seq}`;
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    await deleteKeys(prefix);
  });
  return {
    get prefix() {
      return prefix;
    },
    get queue() {
      return queue;
    },
    get admin() {
      if (admin === undefined) throw new Error('the fixture connects in beforeAll');
      return admin;
    },
    base: () => `${prefix}:{${queue}}:`,
    app(opts = {}) {
      const a = redisApp({ name: queue, prefix, concurrency: opts.concurrency, config: opts.config }).register(tasks as never);
      apps.push(a);
      return a;
    },
  };
}
