/**
 * TaskContext of a run (id, name, attempt, parentId, child logger, broker, storage, config,
 * addTask, progress), a custom logger, worker events and removeOnComplete.
 */
import 'reflect-metadata';
import { Broker, Config, LogFields, Logger, QTasks, Storage, Task, TaskContext } from 'qtasks';

/** Keeps every line, with the fields of its chain of children. */
class MemoryLogger extends Logger {
  constructor(readonly lines: { level: string; message: string; fields: LogFields }[] = [], private readonly base: LogFields = {}) {
    super();
  }
  debug(message: string, fields?: LogFields) { this.lines.push({ level: 'debug', message, fields: { ...this.base, ...fields } }); }
  info(message: string, fields?: LogFields) { this.lines.push({ level: 'info', message, fields: { ...this.base, ...fields } }); }
  warn(message: string, fields?: LogFields) { this.lines.push({ level: 'warn', message, fields: { ...this.base, ...fields } }); }
  error(message: string, fields?: LogFields) { this.lines.push({ level: 'error', message, fields: { ...this.base, ...fields } }); }
  child(fields: LogFields): Logger { return new MemoryLogger(this.lines, { ...this.base, ...fields }); }
}

class CtxTasks {
  @Task({ name: 'ctx.inspect', retry: 1 })
  async inspect(ctx: TaskContext, failFirst: boolean) {
    ctx.logger.info('inspecting', { step: ctx.attempt });
    if (failFirst && ctx.attempt === 1) throw new Error('again');
    const child = ctx.parentId === undefined ? await ctx.addTask('ctx.inspect', [false]) : undefined;
    return {
      id: ctx.id,
      name: ctx.name,
      attempt: ctx.attempt,
      parentId: ctx.parentId ?? null,
      child: child?.id ?? null,
      broker: ctx.broker instanceof Broker,
      storage: ctx.storage instanceof Storage,
      config: ctx.config instanceof Config && ctx.config.concurrency,
      signal: ctx.signal instanceof AbortSignal && !ctx.signal.aborted,
    };
  }

  @Task({ name: 'ctx.plain' })
  plain(x: number) {
    return x;
  }
}

describe('task context', () => {
  let app: QTasks;
  let logger: MemoryLogger;
  beforeEach(() => {
    logger = new MemoryLogger();
    app = new QTasks({ name: `ctx-${Date.now()}`, discover: false, logger, concurrency: 2 }).register(CtxTasks);
  });
  afterEach(() => app.close());

  it('gives each run its id, name, attempt, parentId, engine, config and a live signal', async () => {
    await app.start();
    const h = await app.addTask('ctx.inspect', [true]);
    const out = (await h.result({ timeout: 2_000 })) as Record<string, unknown>;
    expect(out).toEqual({
      id: h.id, name: 'ctx.inspect', attempt: 2, parentId: null, child: expect.any(String),
      broker: true, storage: true, config: 2, signal: true,
    });
    const child = (await app.handle(out.child as string).result({ timeout: 2_000 })) as Record<string, unknown>;
    expect(child).toMatchObject({ parentId: h.id, attempt: 1, child: null });
    expect(await app.getTask(out.child as string)).toMatchObject({ parentId: h.id });
  });

  it('ctx.logger is a child of the app logger carrying the task id', async () => {
    await app.start();
    const h = await app.addTask('ctx.inspect', [false]);
    await h.result({ timeout: 2_000 });
    const line = logger.lines.find((l) => l.message === 'inspecting' && l.fields.step === 1);
    expect(line).toBeDefined();
    expect(Object.values(line!.fields)).toContain(h.id);
  });

  it('fires worker:start at start and worker:stop at close', async () => {
    const events: string[] = [];
    app.on('worker:start', (e) => events.push(`start:${typeof e.workerId}`));
    app.on('worker:stop', (e) => events.push(`stop:${typeof e.workerId}`));
    await app.start();
    expect(events).toEqual(['start:string']);
    await app.close();
    expect(events).toEqual(['start:string', 'stop:string']);
  });

  it('removeOnComplete drops the record, yet a waiting result() settles', async () => {
    const h = await app.addTask('ctx.plain', [7], { removeOnComplete: true });
    const result = h.result({ timeout: 2_000 });
    await app.start();
    expect(await result).toBe(7);
    expect(await app.getTask(h.id)).toBeUndefined();
  });
});
