/**
 * Workflow cases over an engine: chains pass results along, groups and chords, flows with their
 * children first and each child-error policy, and specs refused before anything is enqueued.
 * Run on memory and on Redis (there also with a producer that never starts).
 */
import 'reflect-metadata';
import { chain, ErrorCodes, flow, group, QTasks, step, Task, TaskContext, TaskSelf } from 'qtasks';
import type { AppFactory } from 'qtasks/conformance';
import { AppTracker } from 'qtasks/conformance';

/** Tasks of the workflow cases. */
export class WfTasks {
  static order: string[] = [];

  @Task({ name: 'wf.inc' })
  inc(x: number): number {
    WfTasks.order.push(`inc:${x}`);
    return x + 1;
  }

  @Task({ name: 'wf.double' })
  double(x: number): number {
    return x * 2;
  }

  @Task({ name: 'wf.label' })
  label(prefix: string, x: unknown): string {
    return `${prefix}:${JSON.stringify(x)}`;
  }

  @Task({ name: 'wf.sum' })
  sum(list: number[]): number {
    return list.reduce((a, b) => a + b, 0);
  }

  @Task({ name: 'wf.fail' })
  fail(why: string): never {
    throw new Error(`wf.fail: ${why}`);
  }

  @Task({ name: 'wf.slow' })
  async slow(ctx: TaskContext, ms: number, value: unknown): Promise<unknown> {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      });
    });
    return value;
  }

  /** Adds a child per entry of `kids` ([name, args]) and returns what waitChildren() gives. */
  @Task({ name: 'wf.waiter', echo: true })
  async waiter(self: TaskSelf, kids: [string, unknown[]][], policy?: 'fail' | 'ignore' | 'continue'): Promise<unknown> {
    WfTasks.order.push('waiter:start');
    for (const [name, args] of kids) await self.addTask(name, args);
    const results = await self.waitChildren(policy ? { onChildError: policy } : undefined);
    WfTasks.order.push('waiter:end');
    return { results, again: await self.waitChildren() };
  }

  static kept: TaskSelf | undefined;

  /** Keeps its echo handle for use after the run ended. */
  @Task({ name: 'wf.keeper', echo: true })
  keeper(self: TaskSelf): string {
    WfTasks.kept = self;
    return self.id;
  }

  @Task({ name: 'wf.parent' })
  async parent(ctx: TaskContext, tag: string): Promise<unknown> {
    WfTasks.order.push('parent');
    return { tag, children: await ctx.childResults() };
  }
}

/** Polls `check` until it is true or `ms` passed; returns its last answer. */
export async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Declares the workflow cases on an engine. `shared`: two apps of one name share a queue. */
export function workflowCases(label: string, factory: AppFactory, cleanup?: () => Promise<void>, shared = false): void {
  describe(`workflows on ${label}`, () => {
    const tracker = new AppTracker(factory, cleanup);
    afterEach(() => tracker.closeAll());
    beforeEach(() => {
      WfTasks.order = [];
    });

    /** A producer and the app that works (the same app unless the engine shares queues). */
    const apps = async (concurrency = 4): Promise<{ producer: QTasks; worker: QTasks }> => {
      const producer = (await tracker.make({ suite: 'wf', concurrency })).register(WfTasks);
      const worker = shared ? (await tracker.make({ name: producer.name, concurrency })).register(WfTasks) : producer;
      await worker.start();
      return { producer, worker };
    };

    it('a chain passes each result to the next step as its last argument', async () => {
      const { producer } = await apps();
      const h = await producer.run(chain(step('wf.inc', [1]), step('wf.double'), step('wf.label', ['out'])));
      expect(await h.result({ timeout: 10_000 })).toBe('out:4');
      expect(await producer.getTask(h.id)).toMatchObject({ status: 'success', returning: 'out:4', args: ['out', 4] });
      expect(await h.status()).toBe('success');
    });

    it('a group runs its steps in parallel and gives their results in order; a chord sums them', async () => {
      const { producer } = await apps();
      const g = await producer.run(group([step('wf.slow', [60, 'a']), step('wf.slow', [5, 'b']), step('wf.inc', [9])]));
      expect(await g.result({ timeout: 10_000 })).toEqual(['a', 'b', 10]);
      const chord = await producer.run(chain(group([step('wf.inc', [1]), step('wf.inc', [2]), step('wf.inc', [3])]), step('wf.sum')));
      expect(await chord.result({ timeout: 10_000 })).toBe(9);
      const after = await producer.run(chain(step('wf.inc', [4]), group([step('wf.double'), step('wf.label', ['x'])])));
      expect(await after.result({ timeout: 10_000 })).toEqual([10, 'x:5']);
    });

    it('a chord of 400 members ending many at a time counts each once and runs its last step once, with every result in order', async () => {
      const { producer } = await apps(25);
      const n = 400;
      const h = await producer.run(chain(group(Array.from({ length: n }, (_, i) => step('wf.inc', [i]))), step('wf.sum')));
      expect(await h.result({ timeout: 30_000 })).toBe((n * (n + 1)) / 2);
      expect(WfTasks.order.filter((x) => x.startsWith('inc:'))).toHaveLength(n);
      const g = await producer.run(group(Array.from({ length: n }, (_, i) => step('wf.double', [i]))));
      expect(await g.result({ timeout: 30_000 })).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    });

    it('a group ends on a storage without stateAddMember too (members counted by stateUpdate)', async () => {
      const { producer, worker } = await apps(8);
      for (const app of new Set([producer, worker])) {
        Object.defineProperty(app.storage, 'stateAddMember', { value: undefined, configurable: true });
      }
      const h = await producer.run(chain(group(Array.from({ length: 40 }, (_, i) => step('wf.inc', [i]))), step('wf.sum')));
      expect(await h.result({ timeout: 10_000 })).toBe((40 * 41) / 2);
    });

    it('a flow runs its children first, then the parent with ctx.childResults()', async () => {
      const { producer } = await apps(1);
      const h = await producer.run(flow({ name: 'wf.parent', args: ['p'], children: [{ name: 'wf.inc', args: [1] }, { name: 'wf.slow', args: [30, 'two'] }] }));
      expect(['waiting', 'new', 'process', 'success']).toContain(await h.status());
      expect(await h.result({ timeout: 10_000 })).toEqual({ tag: 'p', children: [2, 'two'] });
      const parent = (await producer.getTask(h.id))!;
      const kids = await producer.manager.list({ name: 'wf.inc' });
      expect(kids[0].parentId).toBe(h.id);
      expect(kids[0].finishedAt!).toBeLessThanOrEqual(parent.startedAt!);
      expect(WfTasks.order).toEqual(['inc:1', 'parent']);
    });

    it("a flow's parent is stored 'waiting' from the start while its children run, then runs after them", async () => {
      const { producer } = await apps(1);
      const h = await producer.run(flow({ name: 'wf.parent', args: ['w'], children: [{ name: 'wf.slow', args: [400, 'a'] }, { name: 'wf.inc', args: [1] }] }));
      const parent = await producer.getTask(h.id);
      expect(parent).toMatchObject({ status: 'waiting', name: 'wf.parent', args: ['w'], attempt: 0 });
      expect(await h.status()).toBe('waiting');
      expect((await producer.manager.counts()).waiting).toBe(1);
      expect((await producer.manager.list({ status: 'waiting' })).map((r) => r.id)).toEqual([h.id]);
      // the tree: the children carry its id and were made after it (the web view finds them)
      const kids = (await producer.manager.list({ limit: 20 })).filter((r) => r.parentId === h.id);
      expect(kids).toHaveLength(2);
      for (const k of kids) expect(k.createdAt).toBeGreaterThanOrEqual(parent!.createdAt);
      expect(await h.result({ timeout: 10_000 })).toEqual({ tag: 'w', children: ['a', 2] });
      expect(await producer.getTask(h.id)).toMatchObject({ status: 'success', attempt: 1 });
      expect((await producer.manager.counts()).waiting).toBe(0);
    });

    it("a cancel of a flow's waiting parent ends it at once; it never runs", async () => {
      const { producer } = await apps(1);
      const h = await producer.run(flow({ name: 'wf.parent', args: ['c'], children: [{ name: 'wf.slow', args: [300, 'a'] }] }));
      expect((await producer.getTask(h.id))?.status).toBe('waiting');
      expect(await producer.cancel(h.id, 'no need')).toBe(true);
      expect(await producer.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'no need' });
      await expect(h.result({ timeout: 10_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
      const kid = (await producer.manager.list({ name: 'wf.slow' }))[0];
      expect(await producer.handle(kid.id).result({ timeout: 10_000 })).toBe('a');
      await new Promise((r) => setTimeout(r, 100));
      expect(WfTasks.order).not.toContain('parent');
      expect((await producer.manager.counts()).waiting).toBe(0);
    });

    it("a flow's failed child: 'fail' never runs the parent (CHILD_FAILED) and cancels pending siblings", async () => {
      const { producer } = await apps(1);
      const h = await producer.run(flow({ name: 'wf.parent', args: ['p'], children: [{ name: 'wf.fail', args: ['boom'] }, { name: 'wf.slow', args: [5_000, 'late'] }, { name: 'wf.inc', args: [1] }] }));
      const err = await h.result({ timeout: 10_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.CHILD_FAILED } });
      expect(WfTasks.order).not.toContain('parent');
      const inc = (await producer.manager.list({ name: 'wf.inc' }))[0];
      await new Promise((r) => setTimeout(r, 100));
      expect(['cancel', 'success']).toContain((await producer.getTask(inc.id))!.status);
      expect((await producer.manager.list({ name: 'wf.slow' }))[0].status).toBe('cancel');
    });

    it("a flow's failed child: 'ignore' gives undefined, 'continue' gives { error }", async () => {
      const { producer } = await apps();
      const ignore = await producer.run(flow({ name: 'wf.parent', args: ['i'], onChildError: 'ignore', children: [{ name: 'wf.fail', args: ['x'] }, { name: 'wf.inc', args: [1] }] }));
      expect(await ignore.result({ timeout: 10_000 })).toEqual({ tag: 'i', children: [null, 2] });
      const cont = await producer.run(flow({ name: 'wf.parent', args: ['c'], onChildError: 'continue', children: [{ name: 'wf.fail', args: ['y'] }, { name: 'wf.inc', args: [2] }] }));
      const out = (await cont.result({ timeout: 10_000 })) as { children: [{ error: { message: string } }, number] };
      expect(out.children[0].error.message).toContain('wf.fail: y');
      expect(out.children[1]).toBe(3);
    });

    it('a chain stops at a failed step: result() throws its TaskFailedError, later steps never run', async () => {
      const { producer } = await apps();
      const h = await producer.run(chain(step('wf.inc', [1]), step('wf.fail'), step('wf.inc')));
      await expect(h.result({ timeout: 10_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
      expect(WfTasks.order).toEqual(['inc:1']);
      expect(await h.status()).toBe('waiting');
    });

    it('waitChildren(): a worker of concurrency 1 runs the parent and its children; their results come in the order added', async () => {
      const { producer } = await apps(1);
      const h = await producer.addTask('wf.waiter', [[['wf.slow', [40, 'a']], ['wf.inc', [1]], ['wf.slow', [5, 'c']]]]);
      expect(await h.result({ timeout: 10_000 })).toEqual({ results: ['a', 2, 'c'], again: [] });
      const kids = (await producer.manager.list({ limit: 50 })).filter((r) => r.parentId === h.id);
      expect(kids.map((k) => k.status)).toEqual(['success', 'success', 'success']);
      const parent = (await producer.getTask(h.id))!;
      expect(parent).toMatchObject({ status: 'success', attempt: 1 });
      expect(Math.max(...kids.map((k) => k.finishedAt!))).toBeLessThanOrEqual(parent.finishedAt!);
      expect((await producer.manager.counts()).waiting).toBe(0);
    });

    it("waitChildren(): the waiting parent is stored 'waiting' (getTask, list, counts) and holds no slot", async () => {
      const { producer } = await apps(1);
      const h = await producer.addTask('wf.waiter', [[['wf.slow', [600, 'x']]]]);
      const seen = await waitUntil(async () => (await producer.getTask(h.id))?.status === 'waiting', 5_000);
      expect(seen).toBe(true);
      expect((await producer.manager.counts()).waiting).toBe(1);
      expect((await producer.manager.list({ status: 'waiting' })).map((r) => r.id)).toEqual([h.id]);
      expect(await h.status()).toBe('waiting');
      // concurrency 1: the child runs in the slot its parent gave back
      const child = (await producer.manager.list({ name: 'wf.slow' }))[0];
      expect(child).toMatchObject({ parentId: h.id });
      expect(await waitUntil(async () => (await producer.getTask(child.id))?.status === 'process', 5_000)).toBe(true);
      expect((await producer.manager.counts()).process).toBe(1);
      expect(await producer.manager.remove(h.id)).toBe(false);
      expect(await h.result({ timeout: 10_000 })).toEqual({ results: ['x'], again: [] });
      expect((await producer.manager.counts()).waiting).toBe(0);
    });

    it("waitChildren(): a failed child rejects CHILD_FAILED and cancels its pending siblings; 'continue' and 'ignore' go on", async () => {
      const { producer } = await apps(1);
      const h = await producer.addTask('wf.waiter', [[['wf.fail', ['boom']], ['wf.slow', [5_000, 'late']]]]);
      const err = await h.result({ timeout: 10_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.CHILD_FAILED, details: { childError: { message: 'wf.fail: boom' } } } });
      expect(WfTasks.order).not.toContain('waiter:end');
      const slow = (await producer.manager.list({ name: 'wf.slow' }))[0];
      expect(await producer.handle(slow.id).result({ timeout: 5_000 }).catch((e: { code?: string }) => e.code)).toBe(ErrorCodes.TASK_CANCELLED);
      const cont = await producer.addTask('wf.waiter', [[['wf.fail', ['x']], ['wf.inc', [1]]], 'continue']);
      const out = (await cont.result({ timeout: 10_000 })) as { results: [{ error: { message: string } }, number] };
      expect(out.results[0].error.message).toBe('wf.fail: x');
      expect(out.results[1]).toBe(2);
      const ignore = await producer.addTask('wf.waiter', [[['wf.fail', ['y']], ['wf.inc', [2]]], 'ignore']);
      expect(await ignore.result({ timeout: 10_000 })).toEqual({ results: [null, 3], again: [] });
    });

    it('waitChildren(): a cancel of the waiting parent ends it cancel and cancels its children that have not ended', async () => {
      const { producer } = await apps(2);
      const h = await producer.addTask('wf.waiter', [[['wf.slow', [5_000, 'a']], ['wf.slow', [5_000, 'b']]]]);
      expect(await waitUntil(async () => (await producer.getTask(h.id))?.status === 'waiting', 5_000)).toBe(true);
      // both children running (a cancel that reaches a task while its claim is on the way is another matter)
      expect(await waitUntil(async () => (await producer.manager.list({ name: 'wf.slow', status: 'process' })).length === 2, 5_000)).toBe(true);
      expect(await producer.cancel(h.id, 'stop')).toBe(true);
      await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
      for (const kid of await producer.manager.list({ name: 'wf.slow' })) {
        await expect(producer.handle(kid.id).result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
      }
      expect((await producer.manager.counts()).waiting).toBe(0);
      expect(WfTasks.order).not.toContain('waiter:end');
    });

    it('waitChildren() and addTask() of an echo handle kept after its run ended are refused INVALID_STATE', async () => {
      const { producer } = await apps();
      const h = await producer.addTask('wf.keeper');
      await h.result({ timeout: 10_000 });
      const kept = WfTasks.kept!;
      expect(kept.id).toBe(h.id);
      await expect(kept.waitChildren()).rejects.toMatchObject({ code: ErrorCodes.INVALID_STATE });
      await expect(kept.addTask('wf.inc', [1])).rejects.toMatchObject({ code: ErrorCodes.INVALID_STATE });
      expect((await producer.manager.list({ name: 'wf.inc' })).length).toBe(0);
    });

    it('refuses a spec that names an unknown task, is empty or contains itself, and enqueues nothing', async () => {
      const { producer } = await apps();
      await expect(producer.run(chain(step('wf.inc', [1]), step('wf.nope')))).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
      await expect(producer.run(chain())).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      await expect(producer.run(group([]))).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      const loop = { kind: 'chain', stages: [] as unknown[] };
      loop.stages.push(loop);
      await expect(producer.run(loop as never)).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      await expect(producer.run(flow({ name: 'wf.parent', children: [{ name: 'wf.inc', args: [1] }], onChildError: 'sometimes' as never }))).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      const counts = await producer.manager.counts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    });
  });
}
