/**
 * Contract cases every engine runs: handles made before anything else, events that fire once,
 * copies handed to user code, payload limits and lossy values, and the `__proto__` rule — the same
 * input behaves the same on every engine.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task } from 'qtasks';
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
    let v: unknown = 'leaf';
    for (let i = 0; i < depth; i++) v = { v };
    return v;
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

