/**
 * Thread and process executors: a task runs in the pool with its injection intact, its timeout
 * and crashes stop and replace the thread or process, and the app's event loop stays free.
 */
import 'reflect-metadata';
import { ErrorCodes, flow, Logger, LogFields, QTasks, TaskRecord } from 'qtasks';
import { Count, Double, here, Runs, processTasks, threadTasks } from './fixtures/executor-tasks';

/** Keeps every line with its fields. */
class Lines extends Logger {
  readonly lines: { level: string; fields: LogFields }[] = [];
  debug(_m: string, f?: LogFields): void {
    this.lines.push({ level: 'debug', fields: f ?? {} });
  }
  info(_m: string, f?: LogFields): void {
    this.lines.push({ level: 'info', fields: f ?? {} });
  }
  warn(_m: string, f?: LogFields): void {
    this.lines.push({ level: 'warn', fields: f ?? {} });
  }
  error(_m: string, f?: LogFields): void {
    this.lines.push({ level: 'error', fields: f ?? {} });
  }
  child(fields: LogFields): Logger {
    const parent = this;
    const merge = (f?: LogFields) => ({ ...fields, ...f });
    return Object.assign(Object.create(Lines.prototype) as Lines, {
      lines: parent.lines,
      debug: (m: string, f?: LogFields) => parent.debug(m, merge(f)),
      info: (m: string, f?: LogFields) => parent.info(m, merge(f)),
      warn: (m: string, f?: LogFields) => parent.warn(m, merge(f)),
      error: (m: string, f?: LogFields) => parent.error(m, merge(f)),
      child: (more: LogFields) => parent.child(merge(more)),
    });
  }
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each([
  ['thread', threadTasks],
  ['process', processTasks],
] as const)('executor %s', (kind, tasks) => {
  let app: QTasks;
  let logger: Lines;

  beforeAll(async () => {
    logger = new Lines();
    app = new QTasks({ name: `exec-${kind}`, discover: false, logger, config: { threads: 1, processes: 1 } });
    app.register(...Object.values(tasks), Double, Count, Runs);
    await app.start();
  });

  afterAll(async () => {
    await app.close();
  });

  const run = async (name: string, args: unknown[] = []): Promise<TaskRecord> => {
    const h = await app.addTask(`${kind}.${name}`, args);
    await h.result().catch(() => undefined);
    return (await app.getTask(h.id))!;
  };

  it('runs the task there and returns its value', async () => {
    const h = await app.addTask<{ sum: number; where: string }>(`${kind}.where`, [1, 2]);
    const out = await h.result();
    expect(out.sum).toBe(3);
    expect(out.where).not.toBe(here());
    expect(await (await app.addTask(`${kind}.method`, ['hey'])).result()).toBe('HEY');
  });

  it('gives the task a working context: logger, progress, nested tasks, state, depends', async () => {
    const h = await app.addTask<Record<string, unknown>>(`${kind}.context`, [21]);
    const out = await h.result();
    expect(out).toMatchObject({ id: h.id, name: `${kind}.context`, attempt: 1, aborted: false, signal: true, doubled: 42, opened: true, childParent: true });
    const rec = await app.getTask(h.id);
    expect(rec?.progress).toEqual({ step: 1 });
    expect(rec?.logs?.map((l) => [l.attempt, l.line])).toEqual([[1, `logged from ${kind}`]]);
    expect(logger.lines.some((l) => l.fields.marker === 21 && l.fields.taskId === h.id)).toBe(true);
    const children = await app.manager.list({ name: 'inline.double' });
    expect(children.some((c) => c.parentId === h.id)).toBe(true);
    expect(await app.state(Runs).get('count')).toBeGreaterThanOrEqual(1);
    expect(out.last).toEqual(expect.stringContaining(kind[0]));
  });

  it('reads a flow’s child results in the parent running there', async () => {
    const h = await app.run(flow({ name: `${kind}.gather`, children: [{ name: 'inline.double', args: [2] }, { name: 'inline.double', args: [3] }] }));
    expect(await h.result()).toEqual([4, 6]);
  });

  it('streams the items of a generator task', async () => {
    const h = await app.addTask(`${kind}.items`, [3]);
    const seen: unknown[] = [];
    for await (const item of h.stream()) seen.push(item);
    expect(seen).toEqual([0, 10, 20]);
    expect(await h.result()).toEqual([0, 10, 20]);
  });

  it('reads the stream of a task it added, to the end or stopping early', async () => {
    expect(await (await app.addTask(`${kind}.relay`, [4])).result()).toEqual({ seen: [0, 1, 2, 3], result: [0, 1, 2, 3] });
    expect(await (await app.addTask(`${kind}.relay`, [3, true])).result()).toEqual({ seen: [0], result: [0, 1, 2] });
  });

  it('decides retries there, with the task’s own error classes', async () => {
    const rec = await run('fails');
    expect(rec.status).toBe('error');
    expect(rec.attempt).toBe(1);
    expect(rec.error?.name).toBe('RangeError');
  });

  it('ends a busy loop at its timeout and runs the next task on a fresh one', async () => {
    const before = (await (await app.addTask<{ where: string }>(`${kind}.where`, [0, 0])).result()).where;
    const rec = await run('busy');
    expect(rec.status).toBe('error');
    expect(rec.error?.code).toBe(ErrorCodes.TASK_TIMEOUT);
    const after = (await (await app.addTask<{ where: string }>(`${kind}.where`, [0, 0])).result()).where;
    expect(after).not.toBe(before);
  });

  it('ends a crash with EXECUTOR_CRASHED, retried by its policy', async () => {
    const crashed = await run('crash');
    expect(crashed.status).toBe('error');
    expect(crashed.error?.code).toBe(ErrorCodes.EXECUTOR_CRASHED);
    expect(crashed.attempt).toBe(2);
    const once = await run('crash-once');
    expect(once.status).toBe('success');
    expect(once.attempt).toBe(2);
  });

  it('stops a CPU-bound task at once when it is cancelled', async () => {
    const before = (await (await app.addTask<{ where: string }>(`${kind}.where`, [0, 0])).result()).where;
    const h = await app.addTask(`${kind}.spin`, [60_000]);
    await until(async () => ((await app.getTask(h.id))?.progress === 'spinning' ? true : undefined));
    expect(await h.cancel('enough')).toBe(true);
    await expect(h.result()).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    // the thread or process was replaced: with a pool of one, the next task runs on the new one
    const after = (await (await app.addTask<{ where: string }>(`${kind}.where`, [0, 0])).result()).where;
    expect(after).not.toBe(before);
  });

  it('keeps the app’s event loop free during a CPU-bound task', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const h = await app.addTask(`${kind}.spin`, [700]);
      await until(async () => ((await app.getTask(h.id))?.progress === 'spinning' ? true : undefined));
      const atStart = ticks;
      await h.result();
      expect(ticks - atStart).toBeGreaterThanOrEqual(5);
    } finally {
      clearInterval(timer);
    }
  });
});

describe('executor shutdown', () => {
  it.each(['thread', 'process'] as const)('close() hands a running %s task back and stops its pool', async (kind) => {
    const app = new QTasks({ name: `exec-close-${kind}`, discover: false, config: { threads: 1, processes: 1, shutdownTimeoutMs: 100 } });
    app.register(...Object.values(kind === 'thread' ? threadTasks : processTasks), Double, Runs);
    await app.start();
    const h = await app.addTask(`${kind}.spin`, [60_000]);
    await until(async () => ((await app.getTask(h.id))?.progress === 'spinning' ? true : undefined));
    const ended: string[] = [];
    app.on('task:error', () => ended.push('error'));
    app.on('task:cancel', () => ended.push('cancel'));
    // a CPU-bound task that ignores its signal: close() still returns, the thread or process is stopped
    await app.close();
    expect(ended).toEqual([]);
  });
});
