/**
 * Workflow cases over an engine: chains pass results along, groups and chords, flows with their
 * children first and each child-error policy, and specs refused before anything is enqueued.
 * Run on memory and on Redis (there also with a producer that never starts).
 */
import 'reflect-metadata';
import { chain, ErrorCodes, flow, group, QTasks, step, Task, TaskContext } from 'qtasks';
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

  @Task({ name: 'wf.parent' })
  async parent(ctx: TaskContext, tag: string): Promise<unknown> {
    WfTasks.order.push('parent');
    return { tag, children: await ctx.childResults() };
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
