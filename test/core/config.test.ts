/**
 * Config: contract defaults, the `config` option, QTASKS_* environment overrides (env wins) and
 * bad values refused with QTASKS_ERR_BAD_OPTION.
 */
import 'reflect-metadata';
import { withoutEnv } from '../support/env-and-errors';
import { CONFIG_DEFAULTS, ErrorCodes, QTasks, Task } from 'qtasks';

class Noop {
  @Task({ name: 'cfg.noop' })
  run() {
    return 1;
  }
}

const ENV_KEYS = ['QTASKS_CONCURRENCY', 'QTASKS_LEASE_MS', 'QTASKS_SHUTDOWN_TIMEOUT_MS', 'QTASKS_LOG_LEVEL', 'QTASKS_RESULT_TTL_MS', 'QTASKS_PREFIX', 'QTASKS_MAX_STALLS'];

describe('config', () => {
  const apps: QTasks[] = [];
  const make = (opts: ConstructorParameters<typeof QTasks>[0] = {}) => {
    const app = new QTasks({ name: `cfg-${Date.now()}`, discover: false, ...opts, config: { logLevel: 'silent', ...opts.config } });
    apps.push(app);
    return app;
  };
  withoutEnv(ENV_KEYS);
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });

  it('has the defaults of the contract', () => {
    expect(CONFIG_DEFAULTS).toMatchObject({
      concurrency: 10,
      leaseMs: 30_000,
      maxStalls: 1,
      resultTtlMs: 24 * 60 * 60 * 1000,
      shutdownTimeoutMs: 10_000,
      prefix: 'qtasks',
      connectTimeoutMs: 5_000,
    });
    const app = make();
    expect(app.config).toMatchObject({ concurrency: 10, leaseMs: 30_000, maxStalls: 1, shutdownTimeoutMs: 10_000, prefix: 'qtasks', connectTimeoutMs: 5_000 });
    expect(app.name).toMatch(/^cfg-/);
    expect(make({ name: undefined }).name).toBe('default');
  });

  it('takes the config option and the concurrency option', async () => {
    const app = make({ concurrency: 3, config: { leaseMs: 1_234, prefix: 'p' } });
    expect(app.config).toMatchObject({ concurrency: 3, leaseMs: 1_234, prefix: 'p' });
    app.register(Noop);
    await app.start();
    expect((await app.manager.workers())[0]).toMatchObject({ concurrency: 3, pid: process.pid });
  });

  it('QTASKS_* environment variables override options (env wins)', () => {
    process.env.QTASKS_CONCURRENCY = '7';
    process.env.QTASKS_LEASE_MS = '4500';
    process.env.QTASKS_PREFIX = 'envp';
    process.env.QTASKS_MAX_STALLS = '0';
    const app = make({ concurrency: 3, config: { leaseMs: 1_000, prefix: 'opt' } });
    expect(app.config).toMatchObject({ concurrency: 7, leaseMs: 4_500, prefix: 'envp', maxStalls: 0 });
  });

  it('refuses bad values with QTASKS_ERR_BAD_OPTION, from options and from env', () => {
    expect(() => make({ concurrency: 0 })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    expect(() => make({ concurrency: 1.5 })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    expect(() => make({ config: { leaseMs: -1 } })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    expect(() => make({ config: { logLevel: 'loud' as 'info' } })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    expect(() => make({ name: 'has space' })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    expect(() => make({ name: 'a{b}' })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    process.env.QTASKS_SHUTDOWN_TIMEOUT_MS = 'soon';
    expect(() => make()).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    delete process.env.QTASKS_SHUTDOWN_TIMEOUT_MS;
    process.env.QTASKS_LOG_LEVEL = 'chatty';
    expect(() => make()).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });

  it('refuses bad enqueue options with QTASKS_ERR_BAD_OPTION', async () => {
    const app = make().register(Noop);
    await expect(app.addTask('cfg.noop', [], { priority: Number.NaN })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app.addTask('cfg.noop', [], { delay: -5 })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app.addTask('cfg.noop', [], { retry: 1.5 })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app.addTask('cfg.noop', [], { id: '' })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app.addTask('cfg.noop', [], { backoff: { type: 'linear' as 'fixed', delay: 5 } })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect((await app.manager.counts()).new).toBe(0);
  });
});
