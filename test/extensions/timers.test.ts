/**
 * Timers: intervals and cron patterns enqueue tasks while the app runs, `@Task({ cron })` with args,
 * one enqueue per tick across timers sharing a broker, bad patterns refused where they are given.
 */
import 'reflect-metadata';
import { ErrorCodes, MemoryBroker, QTasksError, Task, Timers } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';
import { ErrorCollectingLogger } from '../support/error-logger';

const calls: unknown[][] = [];

class Tasks {
  @Task({ name: 'tm.tick' })
  tick(...args: unknown[]) {
    calls.push(args);
    return args.length;
  }
}

@Task({ name: 'tm.cron', cron: { pattern: '* * * * * *', args: ['from-cron'], timezone: 'Europe/Paris' } })
class CronTask {
  run(tag: string) {
    calls.push(['cron', tag]);
  }
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof QTasksError ? err.code : 'not a QTasksError';
  }
  return undefined;
}

describe('timers', () => {
  let app: TestApp;
  let logger: ErrorCollectingLogger;
  beforeEach(() => {
    calls.length = 0;
    logger = new ErrorCollectingLogger();
    app = createTestApp({ name: `tm-${process.pid}-${Date.now()}`, logger });
    app.register(Tasks);
  });
  afterEach(async () => {
    await app.close();
  });

  it('every(ms) enqueues while started and stops at close', async () => {
    app.timer.every(20, 'tm.tick', ['e']);
    await app.start();
    await until(() => calls.length >= 3);
    expect(calls[0]).toEqual(['e']);
    await app.close();
    const seen = calls.length;
    await new Promise((r) => setTimeout(r, 80));
    expect(calls.length).toBe(seen);
  });

  it('cron(expr) with seconds and @Task({ cron }) with args and a time zone both fire', async () => {
    app.register(CronTask);
    const handle = app.timer.cron('* * * * * *', 'tm.tick', ['c'], { timezone: 'UTC' });
    expect(handle.nextRun()).toBeUndefined();
    await app.start();
    expect(handle.nextRun()).toBeInstanceOf(Date);
    expect(app.timer.list().map((t) => t.name).sort()).toEqual(['tm.cron', 'tm.tick']);
    await until(() => calls.some((c) => c[0] === 'c') && calls.some((c) => c[0] === 'cron'));
    expect(calls.find((c) => c[0] === 'cron')).toEqual(['cron', 'from-cron']);
    handle.stop();
    expect(app.timer.list().map((t) => t.name)).toEqual(['tm.cron']);
  });

  it('throws QTASKS_ERR_BAD_CRON where a bad pattern or time zone is given', () => {
    expect(codeOf(() => app.timer.cron('not a cron', 'tm.tick'))).toBe(ErrorCodes.BAD_CRON);
    expect(codeOf(() => app.timer.cron('61 * * * *', 'tm.tick'))).toBe(ErrorCodes.BAD_CRON);
    expect(codeOf(() => app.timer.cron('* * * * *', 'tm.tick', [], { timezone: 'Mars/Olympus' }))).toBe(ErrorCodes.BAD_CRON);
    expect(codeOf(() => app.timer.every(0, 'tm.tick'))).toBe(ErrorCodes.BAD_OPTION);
    @Task({ name: 'tm.bad', cron: '* * nope' })
    class BadCron {
      run() {}
    }
    expect(codeOf(() => app.register(BadCron))).toBe(ErrorCodes.BAD_CRON);
  });

  it('logs a tick whose task is unknown and goes on', async () => {
    app.timer.every(20, 'tm.unknown');
    app.timer.every(20, 'tm.tick');
    await app.start();
    await until(() => calls.length >= 2 && logger.errors.length >= 2);
  });

  it('enqueues each tick once across timers sharing a broker', async () => {
    const broker = new MemoryBroker();
    const attempts = new Map<string, number>();
    const lock = broker.tryLock.bind(broker);
    broker.tryLock = async (key, ttl) => {
      attempts.set(key, (attempts.get(key) ?? 0) + 1);
      return lock(key, ttl);
    };
    const enqueued: string[] = [];
    const make = () =>
      new Timers({ broker, logger, definitions: () => [], addTask: async (name) => void enqueued.push(name) });
    const a = make();
    const b = make();
    a.every(25, 'shared');
    b.every(25, 'shared');
    a.start();
    b.start();
    await until(() => [...attempts.values()].filter((n) => n === 2).length >= 3);
    await Promise.all([a.stop(), b.stop()]);
    expect(enqueued.length).toBe(attempts.size);
  });
});
