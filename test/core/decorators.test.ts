/**
 * Decorator misuse: wrong targets, bad options, duplicate names and constructor parameters that
 * cannot be resolved all fail with a QTasksError and a stable code.
 */
import 'reflect-metadata';
import { Depends, ErrorCodes, Hook, HookPoint, Inject, Logger, Middleware, QTasksError, State, StateStore, Task, TaskContext } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('decorator misuse', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });
  const newApp = (): TestApp => {
    const a = createTestApp({ name: `dec-${Date.now()}`, config: { logLevel: 'silent' } });
    apps.push(a);
    return a;
  };

  it('@Task on a class without run() is QTASKS_ERR_BAD_DECORATOR', () => {
    const err = thrown(() => {
      @Task()
      class NoRun {
        work() {}
      }
      return NoRun;
    });
    expect(err).toBeInstanceOf(QTasksError);
    expect(err).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
  });

  it('@Task on a static method or a property is QTASKS_ERR_BAD_DECORATOR', () => {
    const onStatic = thrown(() => {
      class S {
        @Task()
        static work() {}
      }
      return S;
    });
    expect(onStatic).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
    const onProperty = thrown(() => {
      const dec = Task() as unknown as (t: object, k: string, d?: PropertyDescriptor) => void;
      dec({}, 'field', { value: 42 });
    });
    expect(onProperty).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
  });

  it('bad @Task, @Depends, @Hook and @Inject arguments fail where they are given', () => {
    expect(thrown(() => Task({ retry: -1 }))).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(thrown(() => Task({ timeout: 0 }))).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(thrown(() => Task({ name: '' }))).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(thrown(() => Task({ backoff: { type: 'linear' as 'fixed', delay: 1 } }))).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(thrown(() => Depends({ scope: 'app' as 'task' }))).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(thrown(() => Hook('task:never' as HookPoint))).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
    expect(thrown(() => Inject(undefined))).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
    expect(
      thrown(() => {
        @Middleware()
        class NoHandle {}
        return NoHandle;
      }),
    ).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
  });

  it('@State on a class that does not extend StateStore is QTASKS_ERR_BAD_DECORATOR', () => {
    const err = thrown(() => {
      @State()
      class NotAStore {
        n = 1;
      }
      return NotAStore;
    });
    expect(err).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
  });

  it('register() of a class with no qtasks decorator is QTASKS_ERR_BAD_DECORATOR', () => {
    class Plain {
      run() {}
    }
    expect(thrown(() => newApp().register(Plain))).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
    expect(thrown(() => newApp().use(Plain))).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
  });

  it('two tasks with one name are QTASKS_ERR_DUPLICATE_TASK', () => {
    @Task({ name: 'dup.same' })
    class A {
      run() {}
    }
    class B {
      @Task({ name: 'dup.same' })
      other() {}
    }
    const err = thrown(() => newApp().register(A, B));
    expect(err).toBeInstanceOf(QTasksError);
    expect(err).toMatchObject({ code: ErrorCodes.DUPLICATE_TASK });
    // registering the same class twice is not a duplicate
    expect(() => newApp().register(A, A)).not.toThrow();
  });

  it('a constructor parameter that cannot be resolved is QTASKS_ERR_UNRESOLVED_PARAM naming it', () => {
    @Task({ name: 'dec.primitive' })
    class TakesNumber {
      constructor(readonly ctx: TaskContext, readonly n: number) {}
      run() {}
    }
    const err = thrown(() => newApp().register(TakesNumber)) as QTasksError;
    expect(err.code).toBe(ErrorCodes.UNRESOLVED_PARAM);
    expect(err.message).toContain('#1');
    expect(err.message).toContain('TakesNumber');
  });

  it('a method-form class asking for run-bound values in its constructor is QTASKS_ERR_UNRESOLVED_PARAM', () => {
    class Holder {
      constructor(readonly ctx: TaskContext) {}
      @Task({ name: 'dec.holder' })
      work() {}
    }
    expect(thrown(() => newApp().register(Holder))).toMatchObject({ code: ErrorCodes.UNRESOLVED_PARAM });
  });

  it('a constructor class the container cannot build fails start() with QTASKS_ERR_UNRESOLVED_PARAM', async () => {
    class NeedsArg {
      constructor(readonly url: string) {}
    }
    @Task({ name: 'dec.service' })
    class Service {
      constructor(readonly dep: NeedsArg) {}
      run() {
        return 1;
      }
    }
    // without a class decorator TypeScript emits no constructor types: refused at register()
    class Undecorated {
      constructor(readonly dep: NeedsArg) {}
      @Task({ name: 'dec.undecorated' })
      work() {}
    }
    expect(thrown(() => newApp().register(Undecorated))).toMatchObject({ code: ErrorCodes.UNRESOLVED_PARAM });
    const a = newApp().register(Service);
    const err = (await a.start().catch((e: unknown) => e)) as QTasksError;
    expect(err).toBeInstanceOf(QTasksError);
    expect(err.code).toBe(ErrorCodes.UNRESOLVED_PARAM);
    expect(err.message).toContain('NeedsArg');
  });

  it('app.state() of a class without @State is QTASKS_ERR_BAD_DECORATOR; a StateStore made with new is INVALID_STATE', async () => {
    class Loose extends StateStore<{ a: number }> {}
    expect(thrown(() => newApp().state(Loose))).toMatchObject({ code: ErrorCodes.BAD_DECORATOR });
    @State()
    class Tight extends StateStore<{ a: number }> {}
    await expect(new Tight().get('a')).rejects.toMatchObject({ code: ErrorCodes.INVALID_STATE });
  });

  it('register() warns when TypeScript emitted no parameter types, and then passes args as they are', async () => {
    class NoMeta {
      @Task({ name: 'dec.nometa' })
      work(a: number, b: number) {
        return a - b;
      }
    }
    Reflect.deleteMetadata('design:paramtypes', NoMeta.prototype, 'work');
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m), child: () => logger };
    const a = createTestApp({ name: `dec-nometa-${Date.now()}`, logger: logger as unknown as Logger });
    apps.push(a);
    a.register(NoMeta);
    expect(warnings).toHaveLength(1);
    expect((await a.runTask('dec.nometa', [5, 3])).returning).toBe(2);
  });
});
