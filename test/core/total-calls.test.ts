/**
 * Every public call is total: whatever a caller passes (fuzzed with fast-check) to addTask,
 * addTasks, getTask, cancel, handle and the manager, the call resolves or rejects with a
 * QTasksError carrying a code — never a TypeError, a RangeError, a hang or a crash.
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { QTasks, QTasksError, Task } from 'qtasks';

class FuzzTasks {
  @Task({ name: 'fz.echo' })
  echo(...args: unknown[]): unknown {
    return args;
  }

  /** Returns a result whose own code throws when the worker looks at it. */
  @Task({ name: 'fz.hostile' })
  hostile(kind: string): unknown {
    if (kind === 'getter') {
      return {
        get then(): unknown {
          throw new Error('then getter throws');
        },
      };
    }
    if (kind === 'method') {
      return {
        then(): never {
          throw new Error('then throws');
        },
      };
    }
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  }
}

const anything = fc.anything({ withMap: true, withSet: true, withDate: true, withBigInt: true, withNullPrototype: true, withSparseArray: true, withTypedArray: true, withBoxedValues: true });

const options = fc.oneof(
  fc.constant(undefined),
  anything,
  fc.record(
    { priority: anything, delay: fc.oneof(anything, fc.integer()), retry: anything, timeout: fc.oneof(anything, fc.integer()), id: anything, backoff: anything, removeOnComplete: anything },
    { requiredKeys: [] },
  ),
);

async function totalCall(run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof QTasksError)) throw new Error(`an untyped error escaped: ${String(err)}`, { cause: err });
    expect(typeof err.code).toBe('string');
  }
}

describe('public calls are total', () => {
  let app: QTasks;
  beforeAll(async () => {
    app = new QTasks({ name: `fuzz-${Date.now()}`, discover: false, config: { logLevel: 'silent', maxPayloadBytes: 64 * 1024 } }).register(FuzzTasks);
    await app.start();
  });
  afterAll(() => app.close());

  it('addTask and addTasks, with any arguments and options', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant('fz.echo'), anything), fc.oneof(anything, fc.array(anything)), options, async (name, args, opts) => {
        await totalCall(async () => {
          const h = await app.addTask(name as string, args as unknown[], opts as never);
          await h.result({ timeout: 5_000 }).catch((e: unknown) => {
            if (!(e instanceof QTasksError)) throw e;
          });
        });
        await totalCall(() => app.addTasks([{ name: name as string, args: args as unknown[], opts: opts as never }]));
        await totalCall(() => app.addTasks(args as never));
      }),
      { numRuns: 300 },
    );
  });

  it('getTask, cancel, handle and the manager, with any id or query', async () => {
    await fc.assert(
      fc.asyncProperty(anything, async (v) => {
        await totalCall(() => app.getTask(v as string));
        await totalCall(() => app.cancel(v as string, v as string));
        await totalCall(() => app.handle(v as string).status());
        await totalCall(() => app.handle(v as string).result({ timeout: 50 }));
        await totalCall(() => app.manager.get(v as string));
        await totalCall(() => app.manager.list(v as never));
        await totalCall(() => app.manager.purge(v as never));
        await totalCall(() => app.manager.retry(v as string));
      }),
      { numRuns: 200 },
    );
  });

  it('a task result whose own code throws (then getter, then method, revoked proxy) ends that task error; the worker goes on', async () => {
    for (const kind of ['getter', 'method', 'revoked']) {
      const h = await app.addTask('fz.hostile', [kind]);
      const err = await h.result({ timeout: 5_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(QTasksError);
      expect(await app.getTask(h.id)).toMatchObject({ status: 'error' });
    }
    expect(await (await app.addTask('fz.echo', [1])).result({ timeout: 5_000 })).toEqual([1]);
  });
});
