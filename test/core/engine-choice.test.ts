/**
 * Choosing an engine: the `engine` option, `url` by scheme (and `QTASKS_URL`), the `redis`
 * shorthand, a broker and a storage given apart (an impossible pairing fails at construction), and
 * conflicting choices refused with QTASKS_ERR_BAD_OPTION.
 */
import 'reflect-metadata';
import { withoutEnv } from '../support/env-and-errors';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Broker, ErrorCodes, MemoryBroker, MemoryStorage, QTasks, Task, memoryEngine } from 'qtasks';
import { RedisBroker, RedisStorage, redisEngine } from 'qtasks/redis';

class Inc {
  @Task({ name: 'ec.inc' })
  run(x: number) {
    return x + 1;
  }
}

/** A broker of another engine that works with any storage offering record writes (as a RabbitMQ broker would). */
class ForeignBroker extends MemoryBroker {
  readonly engine: string = 'foreign';
  readonly storageNeeds = 'any' as const;
}

/** A storage of another engine that offers no record writes. */
class PlainStorage extends MemoryStorage {
  readonly engine: string = 'plain';
  readonly recordWriter = undefined;
}

const ENV_KEYS = ['QTASKS_URL', 'QTASKS_REDIS_URL'];

describe('choosing an engine', () => {
  const apps: QTasks[] = [];
  let n = 0;
  const make = (opts: ConstructorParameters<typeof QTasks>[0] = {}) => {
    const app = new QTasks({ name: `ec-${process.pid}-${++n}`, discover: false, config: { logLevel: 'silent' }, ...opts });
    apps.push(app);
    return app;
  };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return undefined;
  };
  withoutEnv(ENV_KEYS);
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });

  it('runs on memoryEngine() given as engine, and on memory by default', async () => {
    const app = make({ engine: memoryEngine() }).register(Inc);
    expect(app.engineName).toBe('memory');
    expect(app.broker).toBeInstanceOf(MemoryBroker);
    await app.start();
    expect(await (await app.addTask('ec.inc', [1])).result({ timeout: 5_000 })).toBe(2);
    expect(make().engineName).toBe('memory');
  });

  it('picks the engine by URL scheme: memory:, redis://, rediss://', async () => {
    const mem = make({ url: 'memory:' }).register(Inc);
    expect(mem.engineName).toBe('memory');
    await mem.start();
    expect(await (await mem.addTask('ec.inc', [2])).result({ timeout: 5_000 })).toBe(3);
    // made without connecting: Redis is reached at the first call that needs it
    const redis = make({ url: 'redis://127.0.0.1:6379' });
    expect(redis.engineName).toBe('redis');
    expect(redis.broker).toBeInstanceOf(RedisBroker);
    expect(redis.storage).toBeInstanceOf(RedisStorage);
    expect(make({ url: 'rediss://127.0.0.1:6380' }).engineName).toBe('redis');
    expect(make({ redis: 'redis://127.0.0.1:6379' }).engineName).toBe('redis');
    expect(make({ engine: redisEngine({ url: 'redis://127.0.0.1:6379', prefix: 'p' }) }).engineName).toBe('redis');
  });

  it('reads QTASKS_URL (and QTASKS_REDIS_URL) when the options name no engine', () => {
    process.env.QTASKS_URL = 'redis://127.0.0.1:6379';
    expect(make().engineName).toBe('redis');
    expect(make({ engine: memoryEngine() }).engineName).toBe('memory');
    delete process.env.QTASKS_URL;
    process.env.QTASKS_REDIS_URL = 'redis://127.0.0.1:6379';
    expect(make().engineName).toBe('redis');
  });

  it('refuses a URL no engine registered, and two ways of choosing at once', () => {
    expect(code(() => make({ url: 'nosuch://host' }))).toBe(ErrorCodes.BAD_OPTION);
    expect(code(() => make({ url: 'not a url' }))).toBe(ErrorCodes.BAD_OPTION);
    process.env.QTASKS_URL = 'nosuch://host';
    expect(code(() => make())).toBe(ErrorCodes.BAD_OPTION);
    delete process.env.QTASKS_URL;
    expect(code(() => make({ engine: memoryEngine(), url: 'memory:' }))).toBe(ErrorCodes.BAD_OPTION);
    expect(code(() => make({ url: 'memory:', broker: new MemoryBroker() }))).toBe(ErrorCodes.BAD_OPTION);
    expect(code(() => make({ engine: {} as never }))).toBe(ErrorCodes.BAD_OPTION);
  });

  it('throws QTASKS_ERR_INCOMPATIBLE_ENGINE at construction for a broker and storage that cannot pair', () => {
    expect(code(() => make({ broker: new RedisBroker(), storage: new MemoryStorage() }))).toBe(ErrorCodes.INCOMPATIBLE_ENGINE);
    expect(code(() => make({ broker: new MemoryBroker(), storage: new RedisStorage('redis://127.0.0.1:6379') }))).toBe(ErrorCodes.INCOMPATIBLE_ENGINE);
    // the missing half comes from the memory engine
    expect(code(() => make({ broker: new RedisBroker() }))).toBe(ErrorCodes.INCOMPATIBLE_ENGINE);
    expect(code(() => make({ broker: new MemoryBroker(), storage: new MemoryStorage() }))).toBeUndefined();
  });

  it('pairs a broker that works with any storage with a storage of another engine that offers record writes', () => {
    const broker: Broker = new ForeignBroker();
    const storage = new MemoryStorage();
    expect(storage.recordWriter).toBeDefined();
    const app = make({ broker, storage });
    expect(app.broker).toBe(broker);
    expect(app.storage).toBe(storage);
    expect(app.engineName).toBe('custom');
    expect(make({ broker: new ForeignBroker(), storage: new RedisStorage('redis://127.0.0.1:6379') }).engineName).toBe('custom');
    // a storage without record writes cannot take a foreign broker's records
    expect(code(() => make({ broker: new ForeignBroker(), storage: new PlainStorage() }))).toBe(ErrorCodes.INCOMPATIBLE_ENGINE);
  });

  it('loads no engine driver the app does not use (the registry requires engine folders lazily)', () => {
    const script = `
      const { QTasks } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'index.ts'))});
      new QTasks({ name: 'lazy', url: 'memory:' });
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        ioredis: loaded.some((k) => /[\\/]node_modules[\\/]ioredis[\\/]/.test(k)),
        pg: loaded.some((k) => /[\\/]node_modules[\\/]pg[\\/]/.test(k)),
        redisFolder: loaded.some((k) => /[\\/]engines[\\/]redis[\\/]/.test(k)),
      }));`;
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { encoding: 'utf8', env: { ...process.env, QTASKS_URL: '', QTASKS_REDIS_URL: '' } });
    expect(JSON.parse(out)).toEqual({ ioredis: false, pg: false, redisFolder: false });
  });
});
