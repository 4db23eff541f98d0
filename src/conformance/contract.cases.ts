/**
 * Contract cases every engine runs: handles made before anything else, events that fire once,
 * copies handed to user code, payload limits and lossy values, and the `__proto__` rule — the same
 * input behaves the same on every engine.
 */
import 'reflect-metadata';
import { describe, it, expect, afterEach } from './jest-globals';
import { ErrorCodes, Hook, HookEvents, Plugin, QTasks, QTasksError, Task } from '..';
import { AppFactory, AppSpec, AppTracker, ConformanceFeatures, waitFor } from './support';

/** Tasks of the contract suite (method form). */
export class ContractTasks {
  @Task({ name: 'cc.echo' })
  echo(value: unknown): unknown {
    return value;
  }

  @Task({ name: 'cc.keys' })
  keys(value: Record<string, unknown>): { own: string[]; inherited: unknown; proto: boolean } {
    return {
      own: Object.keys(value),
      inherited: (value as { polluted?: unknown }).polluted,
      proto: Object.getPrototypeOf(value) === Object.prototype,
    };
  }

  @Task({ name: 'cc.nest' })
  nest(depth: number): unknown {
    return nested(depth);
  }

  @Task({ name: 'cc.big' })
  big(size: number): string {
    return 'x'.repeat(size);
  }

  /** Changes its own argument (a run's arguments are its own). */
  @Task({ name: 'cc.mutate' })
  mutate(input: { list: number[] }): { list: number[] } {
    input.list.push(4);
    return { list: input.list };
  }

  @Task({ name: 'cc.items' })
  *items(): Generator<{ n: number }> {
    yield { n: 1 };
    yield { n: 2 };
  }

  @Task({ name: 'cc.lossy' })
  lossy(): unknown {
    return { m: new Map([[1, 2]]) };
  }
}

/** A plugin that changes everything it is handed, at every point. */
@Plugin()
export class VandalPlugin {
  @Hook('task:enqueue')
  enqueue(e: HookEvents['task:enqueue']): void {
    if (e.record.name !== 'cc.mutate') return;
    (e.record as { status: string }).status = 'process';
    e.record.priority = 99;
  }

  @Hook('task:before')
  before(e: HookEvents['task:before']): void {
    if (e.record.name !== 'cc.mutate') return;
    (e.record as { status: string }).status = 'success';
    (e.record as { id: string }).id = 'hijacked';
    (e.record.args[0] as { list: number[] }).list.push(-1);
  }

  @Hook('task:success')
  success(e: HookEvents['task:success']): void {
    if (e.record.name !== 'cc.mutate') return;
    (e.record as { status: string }).status = 'process';
    e.record.returning = undefined;
    (e.result as { list: number[] }).list.length = 0;
  }
}

/** `{ v: { v: … 'leaf' } }` nested `depth` objects deep. */
export function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

/** Defines the contract cases for an engine. */
export function contractConformance(name: string, makeApp: AppFactory, cleanup?: () => Promise<void>, features: ConformanceFeatures = {}): void {
  describe(`Contract conformance: ${name}`, () => {
    const tracker = new AppTracker(makeApp, cleanup);
    const make = async (spec: Partial<AppSpec> = {}): Promise<QTasks> => (await tracker.make({ suite: 'c', ...spec })).register(ContractTasks);
    afterEach(() => tracker.closeAll());

    it('app.handle(id) works as the very first call of an app, with no I/O until used', async () => {
      const fresh = await make();
      const h = fresh.handle('no-such-task');
      expect(h.id).toBe('no-such-task');
      expect(await h.status()).toBeUndefined();
      const fresh2 = await make();
      await expect(fresh2.handle('no-such-task').result({ timeout: 1_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
      const fresh3 = await make();
      expect(await fresh3.handle('no-such-task').cancel()).toBe(false);
    });

    if (features.sharedQueue) {
      it('a handle made first thing in another app of the queue follows the task', async () => {
        const worker = await make();
        const producer = await make({ name: worker.name });
        const h = await producer.addTask('cc.echo', [7]);
        const reader = await make({ name: worker.name });
        const remote = reader.handle<number>(h.id);
        expect(await remote.status()).toBe('new');
        const reader2 = await make({ name: worker.name });
        const result = reader2.handle<number>(h.id).result({ timeout: 5_000 });
        await worker.start();
        expect(await result).toBe(7);
        expect(await remote.status()).toBe('success');
      });
    }

    it('refuses arguments nested deeper than maxDepth at addTask, naming the path; nothing is stored', async () => {
      const app = await make();
      for (const depth of [65, 3_000, 6_000]) {
        const err = await app.addTask('cc.echo', [nested(depth)]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(QTasksError);
        expect(err).toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE, details: { path: expect.stringMatching(/^args\[0\](\.v){64}$/) } });
      }
      await expect(app.addTasks([{ name: 'cc.echo', args: [1] }, { name: 'cc.echo', args: [nested(100)] }])).rejects.toMatchObject({
        code: ErrorCodes.NOT_SERIALIZABLE,
      });
      expect((await app.manager.counts()).new).toBe(0);
      await app.start();
      const ok = await app.addTask('cc.echo', [nested(64)]);
      expect(await ok.result({ timeout: 5_000 })).toEqual(nested(64));
      expect((await app.getTask(ok.id))!.args).toEqual([nested(64)]);
    });

    it('a result nested deeper than maxDepth ends the task error with NOT_SERIALIZABLE', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cc.nest', [65]);
      const err = await h.result({ timeout: 5_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.NOT_SERIALIZABLE } });
      expect(await app.getTask(h.id)).toMatchObject({ status: 'error', error: { code: ErrorCodes.NOT_SERIALIZABLE } });
      const lossy = await app.addTask('cc.lossy');
      await expect(lossy.result({ timeout: 5_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.NOT_SERIALIZABLE } });
    });

    it('refuses more than maxPayloadBytes with PAYLOAD_TOO_LARGE, for arguments and results', async () => {
      const app = await make({ config: { maxPayloadBytes: 1_000 } });
      await expect(app.addTask('cc.echo', ['x'.repeat(2_000)])).rejects.toMatchObject({ code: ErrorCodes.PAYLOAD_TOO_LARGE });
      const huge: unknown[] = [];
      huge.length = 1e9;
      await expect(app.addTask('cc.echo', [huge])).rejects.toMatchObject({ code: ErrorCodes.PAYLOAD_TOO_LARGE });
      await expect(app.addTask('cc.echo', { length: 1e9 } as unknown as unknown[])).rejects.toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE });
      expect((await app.manager.counts()).new).toBe(0);
      await app.start();
      const h = await app.addTask('cc.big', [2_000]);
      await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.PAYLOAD_TOO_LARGE } });
      expect(await app.getTask(h.id)).toMatchObject({ status: 'error', attempt: 1 });
    });

    it('refuses Map, Set, RegExp and Error arguments instead of storing {}', async () => {
      const app = await make();
      for (const v of [new Map([[1, 2]]), new Set([1]), /re/g, new Error('boom')]) {
        await expect(app.addTask('cc.echo', [{ v }])).rejects.toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE, details: { path: 'args[0].v' } });
      }
      expect((await app.manager.counts()).new).toBe(0);
    });

    it('a __proto__ key in args stays a plain own property on every engine, never the prototype', async () => {
      const app = await make();
      await app.start();
      const arg = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
      const h = await app.addTask('cc.keys', [arg]);
      expect(await h.result({ timeout: 5_000 })).toEqual({ own: ['__proto__', 'a'], inherited: undefined, proto: true });
      const stored = (await app.getTask(h.id))!.args[0] as Record<string, unknown>;
      expect(Object.keys(stored)).toEqual(['__proto__', 'a']);
      expect('polluted' in stored).toBe(false);
      const echoed = (await (await app.addTask('cc.echo', [arg])).result({ timeout: 5_000 })) as Record<string, unknown>;
      expect(JSON.stringify(echoed)).toBe('{"__proto__":{"polluted":true},"a":1}');
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('hands hooks, listeners, handles and tasks copies: what they change is never stored', async () => {
      const app = await make();
      app.plugin(new VandalPlugin());
      app.on('task:success', (e) => {
        if (e.record.name !== 'cc.mutate') return;
        (e.record as { status: string }).status = 'new';
        (e.record.returning as { list: number[] }).list.push(-2);
        (e.record.args[0] as { list: number[] }).list.length = 0;
      });
      await app.start();
      const handles = await Promise.all([1, 2, 3].map(() => app.addTask('cc.mutate', [{ list: [1, 2, 3] }])));
      for (const h of handles) {
        const first = (await h.result({ timeout: 5_000 })) as { list: number[] };
        expect(first).toEqual({ list: [1, 2, 3, 4] });
        first.list.push(-3);
        expect(await h.result({ timeout: 5_000 })).toEqual({ list: [1, 2, 3, 4] });
        expect(await app.getTask(h.id)).toMatchObject({ id: h.id, status: 'success', priority: 0, args: [{ list: [1, 2, 3] }], returning: { list: [1, 2, 3, 4] } });
        expect(await h.status()).toBe('success');
      }
      await waitFor(async () => (await app.manager.counts()).success === 3, 'three successes');
      expect(await app.manager.counts()).toMatchObject({ process: 0, new: 0, success: 3 });
      const stream = await app.addTask('cc.items');
      for await (const item of stream.stream<{ n: number }>()) item.n = -1;
      const again: unknown[] = [];
      for await (const item of app.handle(stream.id).stream()) again.push(item);
      expect(again).toEqual([{ n: 1 }, { n: 2 }]);
      expect(await stream.result({ timeout: 5_000 })).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('app.once() fires once', async () => {
      const app = await make();
      const seen: string[] = [];
      app.once('task:success', (e) => seen.push(e.record.id));
      await app.start();
      const a = await app.addTask('cc.echo', [1]);
      await a.result({ timeout: 5_000 });
      const b = await app.addTask('cc.echo', [2]);
      await b.result({ timeout: 5_000 });
      await waitFor(() => seen.length > 0, 'the once listener');
      const c = await app.addTask('cc.echo', [3]);
      await c.result({ timeout: 5_000 });
      expect(seen).toEqual([a.id]);
    });
  });
}

