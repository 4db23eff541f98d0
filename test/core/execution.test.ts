/**
 * Running tasks: echo (TaskSelf), the AbortSignal on timeout, cancel and shutdown, timeouts and
 * cancels winning over what the task does after, the settling order, the concurrency limit and a
 * graceful, bounded close().
 */
import 'reflect-metadata';
import { Depends, ErrorCodes, MemoryBroker, MemoryStorage, Outcome, QTasks, Task, TaskContext, TaskRecord, TaskSelf } from 'qtasks';

const seen = { aborted: new Map<string, unknown>(), running: 0, maxRunning: 0, closedAt: new Map<string, number>() };

function untilAborted(signal: AbortSignal, maxMs: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), maxMs);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

@Depends()
class Resource {
  constructor(readonly ctx: TaskContext) {}
  async close() {
    await new Promise((r) => setTimeout(r, 10));
    seen.closedAt.set(this.ctx.id, Date.now());
  }
}

@Task({ name: 'ex.echo', echo: true })
class EchoTask {
  async run(self: TaskSelf, mode: string) {
    if (mode === 'cancel') self.cancel('by self');
    const child = await self.addTask('ex.add', [1, 2]);
    return { id: self.id, ctxId: self.ctx.id, child: child.id, attempt: self.ctx.attempt };
  }
}

class Tasks {
  @Task({ name: 'ex.add' })
  add(a: number, b: number) {
    return a + b;
  }

  @Task({ name: 'ex.echoMethod', echo: true })
  echoMethod(self: TaskSelf, ctx: TaskContext, x: number) {
    return { same: self.ctx === ctx, id: self.id, x };
  }

  /** Waits until aborted (or `ms`), then does `after`: return, throw or ignore. */
  @Task({ name: 'ex.stubborn' })
  async stubborn(ctx: TaskContext, ms: number, after: 'return' | 'throw') {
    const aborted = await untilAborted(ctx.signal, ms);
    if (aborted) seen.aborted.set(ctx.id, ctx.signal.reason);
    if (after === 'throw') throw new Error('after the abort');
    return 'finished';
  }

  /** Catches its own cancel signal and goes on. */
  @Task({ name: 'ex.swallow' })
  swallow(ctx: TaskContext) {
    try {
      ctx.cancel('inside');
    } catch {
      seen.aborted.set(ctx.id, ctx.signal.aborted);
    }
    return 'went on';
  }

  @Task({ name: 'ex.busy' })
  async busy(ms: number) {
    seen.running++;
    seen.maxRunning = Math.max(seen.maxRunning, seen.running);
    await new Promise((r) => setTimeout(r, ms));
    seen.running--;
    return ms;
  }

  @Task({ name: 'ex.withRes' })
  async withRes(res: Resource, fail: boolean) {
    if (fail) throw new Error('fail');
    return res.ctx.id;
  }
}

/** A memory broker that notes how each attempt ended. */
class SpyBroker extends MemoryBroker {
  readonly outcomes: [string, Outcome['status']][] = [];
  finishNow(record: TaskRecord, outcome: Outcome) {
    this.outcomes.push([record.id, outcome.status]);
    return super.finishNow(record, outcome);
  }
}

describe('execution', () => {
  let app: QTasks;
  let broker: SpyBroker;
  const make = (concurrency = 4, shutdownTimeoutMs = 2_000) => {
    broker = new SpyBroker();
    app = new QTasks({ name: `ex-${Date.now()}`, discover: false, concurrency, broker, storage: new MemoryStorage(), config: { logLevel: 'silent', shutdownTimeoutMs } });
    return app.register(EchoTask, Tasks);
  };
  beforeEach(() => {
    seen.aborted.clear();
    seen.closedAt.clear();
    seen.running = 0;
    seen.maxRunning = 0;
  });
  afterEach(() => app.close());

  it('echo: TaskSelf carries id and ctx, and its addTask sets parentId', async () => {
    await make().start();
    const h = await app.addTask('ex.echo', ['go']);
    const out = (await h.result({ timeout: 2_000 })) as { id: string; ctxId: string; child: string; attempt: number };
    expect(out).toMatchObject({ id: h.id, ctxId: h.id, attempt: 1 });
    expect(await app.getTask(out.child)).toMatchObject({ name: 'ex.add', parentId: h.id });
    expect(await app.handle(out.child).result({ timeout: 2_000 })).toBe(3);
    const m = await app.addTask('ex.echoMethod', [5]);
    expect(await m.result({ timeout: 2_000 })).toEqual({ same: true, id: m.id, x: 5 });
  });

  it('echo: self.cancel ends the task as cancel', async () => {
    await make().start();
    const h = await app.addTask('ex.echo', ['cancel']);
    await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'by self' });
  });

  it('a timeout aborts the signal and wins over a later return or throw', async () => {
    await make().start();
    const r = await app.addTask('ex.stubborn', [2_000, 'return'], { timeout: 30 });
    const t = await app.addTask('ex.stubborn', [2_000, 'throw'], { timeout: 30 });
    for (const h of [r, t]) {
      await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.TASK_TIMEOUT } });
    }
    await new Promise((res) => setTimeout(res, 20));
    expect(seen.aborted.get(r.id)).toMatchObject({ code: ErrorCodes.TASK_TIMEOUT });
    expect(await app.getTask(r.id)).toMatchObject({ status: 'error', error: { code: ErrorCodes.TASK_TIMEOUT } });
    expect(await app.getTask(t.id)).toMatchObject({ status: 'error', error: { code: ErrorCodes.TASK_TIMEOUT } });
  });

  it('a cancel aborts the signal and wins over a later return or throw', async () => {
    await make().start();
    const r = await app.addTask('ex.stubborn', [2_000, 'return']);
    const t = await app.addTask('ex.stubborn', [2_000, 'throw'], { retry: 3 });
    await new Promise((res) => setTimeout(res, 20));
    expect(await app.cancel(r.id, 'r')).toBe(true);
    expect(await app.cancel(t.id, 't')).toBe(true);
    for (const h of [r, t]) await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    await new Promise((res) => setTimeout(res, 20));
    expect(seen.aborted.has(r.id) && seen.aborted.has(t.id)).toBe(true);
    expect(await app.getTask(t.id)).toMatchObject({ status: 'cancel', attempt: 1, cancelReason: 't' });
    expect(broker.outcomes.filter(([id]) => id === t.id)).toEqual([[t.id, 'cancel']]);
  });

  it('ctx.cancel wins even when the task catches the cancel signal', async () => {
    await make().start();
    const h = await app.addTask('ex.swallow');
    await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'inside' });
    expect(seen.aborted.get(h.id)).toBe(true);
  });

  it('settling order: record final and depends closed before result() settles and events fire', async () => {
    await make().start();
    const order: string[] = [];
    app.on('task:success', (e) => order.push(`event:${e.record.status}:${seen.closedAt.has(e.record.id)}`));
    app.on('task:error', (e) => order.push(`event:${e.record.status}:${seen.closedAt.has(e.record.id)}`));
    const ok = await app.addTask('ex.withRes', [false]);
    expect(await ok.result()).toBe(ok.id);
    expect(seen.closedAt.has(ok.id)).toBe(true);
    expect((await app.getTask(ok.id))?.status).toBe('success');
    const bad = await app.addTask('ex.withRes', [true]);
    await expect(bad.result()).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
    expect(seen.closedAt.has(bad.id)).toBe(true);
    expect((await app.getTask(bad.id))?.status).toBe('error');
    expect(order).toEqual(['event:success:true', 'event:error:true']);
  });

  it('never runs more than `concurrency` tasks at once', async () => {
    await make(3).start();
    const hs = await Promise.all(Array.from({ length: 12 }, () => app.addTask('ex.busy', [15])));
    await Promise.all(hs.map((h) => h.result({ timeout: 3_000 })));
    expect(seen.maxRunning).toBe(3);
  });

  it('close() lets a running task finish', async () => {
    await make().start();
    const h = await app.addTask('ex.busy', [80]);
    await new Promise((res) => setTimeout(res, 10));
    await app.close();
    expect(broker.outcomes).toEqual([[h.id, 'success']]);
  });

  it('a cancel during close() still reaches the running task', async () => {
    await make(2, 2_000).start();
    const h = await app.addTask('ex.stubborn', [5_000, 'return']);
    const result = h.result().catch((e: unknown) => e);
    await new Promise((res) => setTimeout(res, 10));
    const closing = app.close();
    await new Promise((res) => setTimeout(res, 10));
    expect(await h.cancel('hurry')).toBe(true);
    await closing;
    expect(await result).toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(broker.outcomes).toEqual([[h.id, 'cancel']]);
  });

  it('close() waits at most shutdownTimeoutMs, then aborts the signal and hands the task back', async () => {
    await make(2, 100).start();
    const h = await app.addTask('ex.stubborn', [5_000, 'return']);
    await new Promise((res) => setTimeout(res, 10));
    const t0 = Date.now();
    await app.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(broker.outcomes).toEqual([[h.id, 'handback']]);
    await new Promise((res) => setTimeout(res, 10));
    expect(seen.aborted.get(h.id)).toMatchObject({ code: ErrorCodes.CLOSED });
  });
});
