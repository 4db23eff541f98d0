/**
 * Injection: method form by parameter types, class form through the constructor (built per run
 * with that run's context), @State, @Depends in task and worker scope, depends(factory) and
 * @Inject(token) with tokens registered in app.container.
 */
import 'reflect-metadata';
import { Broker, Config, Depends, depends, Inject, Logger, QTasks, State, StateStore, Storage, Task, TaskContext } from 'qtasks';

const log: string[] = [];
let seq = 0;

@State({ name: 'inj.counter' })
class Counter extends StateStore<{ n: number }> {}

@Depends()
class TaskRes {
  readonly n = ++seq;
  isOpen = false;
  constructor(readonly ctx: TaskContext) {}
  open() {
    this.isOpen = true;
    log.push(`open:${this.ctx.id}`);
  }
  async close() {
    await new Promise((r) => setTimeout(r, 5));
    this.isOpen = false;
    log.push(`close:${this.ctx.id}`);
  }
}

@Depends({ scope: 'worker' })
class WorkerRes {
  static opened = 0;
  static closed = 0;
  open() {
    WorkerRes.opened++;
  }
  close() {
    WorkerRes.closed++;
  }
}

const genFactory = depends(async function* (ctx: TaskContext) {
  log.push(`gen-open:${ctx.id}`);
  yield { tag: ctx.id };
  log.push(`gen-close:${ctx.id}`);
});
const fnFactory = depends((ctx: TaskContext) => ({ by: ctx.name }));
const workerGen = depends(
  async function* () {
    log.push('wgen-open');
    yield { shared: true };
    log.push('wgen-close');
  },
  { scope: 'worker' },
);

class MethodTasks {
  static built = 0;
  constructor(
    @Inject(Broker) readonly broker: Broker,
    readonly config: Config,
    readonly counter: Counter,
  ) {
    MethodTasks.built++;
  }

  @Task({ name: 'inj.all' })
  async all(
    ctx: TaskContext,
    logger: Logger,
    broker: Broker,
    storage: Storage,
    config: Config,
    counter: Counter,
    res: TaskRes,
    wres: WorkerRes,
    @Inject(genFactory) gen: { tag: string },
    @Inject(fnFactory) fn: { by: string },
    @Inject('greeting') greeting: string,
    @Inject(workerGen) wgen: { shared: boolean },
    a: number,
    b: string,
  ) {
    await counter.incr('n', a);
    return {
      id: ctx.id,
      logger: logger instanceof Logger,
      broker: broker === this.broker,
      storage: storage instanceof Storage,
      config: config === this.config && config.concurrency,
      counter: counter === this.counter,
      res: res.isOpen && res.ctx.id === ctx.id,
      wres: wres instanceof WorkerRes,
      gen: gen.tag === ctx.id,
      fn: fn.by,
      greeting,
      wgen: wgen.shared,
      a,
      b,
    };
  }

  @Task({ name: 'inj.boom' })
  async boom(res: TaskRes, @Inject(genFactory) gen: { tag: string }) {
    log.push(`boom:${res.ctx.id}:${gen.tag}`);
    throw new Error('boom');
  }
}

@Task({ name: 'inj.class' })
class ClassForm {
  static built: string[] = [];
  constructor(
    readonly ctx: TaskContext,
    readonly res: TaskRes,
    readonly counter: Counter,
    @Inject('greeting') readonly greeting: string,
  ) {
    ClassForm.built.push(ctx.id);
  }
  async run(x: number) {
    return { id: this.ctx.id, x, res: this.res.isOpen, greeting: this.greeting, n: await this.counter.get('n') };
  }
}

@Task({ name: 'inj.plain' })
class PlainClass {
  run(a: number, b: number) {
    return a * b;
  }
}

/** Method-form class whose constructor takes a worker-scoped resource. */
class UsesPool {
  constructor(@Inject(WorkerRes) readonly pool: WorkerRes) {}
  @Task({ name: 'inj.pool.method' })
  work() {
    return this.pool instanceof WorkerRes && WorkerRes.opened;
  }
}

@Task({ name: 'inj.pool.class' })
class ClassUsesPool {
  constructor(readonly pool: WorkerRes) {}
  run() {
    return this.pool instanceof WorkerRes && WorkerRes.opened;
  }
}

/** A plain class made injectable by registering it in app.container. */
class Greeter {
  greet(who: string) {
    return `hi ${who}`;
  }
}

class UsesGreeter {
  @Task({ name: 'inj.greeter' })
  work(greeter: Greeter, who: string) {
    return greeter.greet(who);
  }
}

describe('injection', () => {
  let app: QTasks;
  beforeEach(() => {
    log.length = 0;
    ClassForm.built = [];
    MethodTasks.built = 0;
    WorkerRes.opened = 0;
    WorkerRes.closed = 0;
    app = new QTasks({ name: `inj-${Date.now()}`, discover: false, concurrency: 3, config: { logLevel: 'silent' } });
    app.container.register('greeting', { useValue: 'hello' });
    app.register(MethodTasks, ClassForm, PlainClass);
  });
  afterEach(() => app.close());

  it('method form: each parameter by its declared type, the rest are args in order', async () => {
    await app.start();
    const h = await app.addTask('inj.all', [4, 'x']);
    expect(await h.result({ timeout: 2_000 })).toEqual({
      id: h.id, logger: true, broker: true, storage: true, config: 3, counter: true, res: true,
      wres: true, gen: true, fn: 'inj.all', greeting: 'hello', wgen: true, a: 4, b: 'x',
    });
    expect(await app.state(Counter).get('n')).toBe(4);
  });

  it('task-scoped depends open per run and close after it, even when the task throws', async () => {
    await app.start();
    const ok = await app.addTask('inj.all', [1, 'y']);
    await ok.result({ timeout: 2_000 });
    expect(log).toEqual(expect.arrayContaining([`open:${ok.id}`, `close:${ok.id}`, `gen-open:${ok.id}`, `gen-close:${ok.id}`]));
    const bad = await app.addTask('inj.boom', []);
    await expect(bad.result({ timeout: 2_000 })).rejects.toMatchObject({ code: 'QTASKS_ERR_TASK_FAILED' });
    // closed before result() settled, in reverse opening order
    const mine = log.filter((l) => l.endsWith(bad.id) || l.startsWith(`boom:${bad.id}`));
    expect(mine).toEqual([`open:${bad.id}`, `gen-open:${bad.id}`, `boom:${bad.id}:${bad.id}`, `gen-close:${bad.id}`, `close:${bad.id}`]);
  });

  it('worker-scoped depends open once at start and close at close', async () => {
    expect(WorkerRes.opened).toBe(0);
    await app.start();
    expect(WorkerRes.opened).toBe(1);
    expect(log).toEqual(['wgen-open']);
    for (let i = 0; i < 3; i++) await (await app.addTask('inj.all', [1, 'z'])).result({ timeout: 2_000 });
    expect(WorkerRes.opened).toBe(1);
    expect(WorkerRes.closed).toBe(0);
    await app.close();
    expect(WorkerRes.closed).toBe(1);
    expect(log.filter((l) => l.startsWith('wgen'))).toEqual(['wgen-open', 'wgen-close']);
  });

  it('class form: built for each run with that run’s context and task depends', async () => {
    await app.start();
    const a = await app.addTask('inj.class', [1]);
    const b = await app.addTask('inj.class', [2]);
    expect(await a.result({ timeout: 2_000 })).toEqual({ id: a.id, x: 1, res: true, greeting: 'hello' });
    expect(await b.result({ timeout: 2_000 })).toEqual({ id: b.id, x: 2, res: true, greeting: 'hello' });
    expect(ClassForm.built.sort()).toEqual([a.id, b.id].sort());
    expect(log).toEqual(expect.arrayContaining([`close:${a.id}`, `close:${b.id}`]));
  });

  it('class form without constructor parameters receives the args', async () => {
    await app.start();
    expect(await (await app.addTask('inj.plain', [6, 7])).result({ timeout: 2_000 })).toBe(42);
  });

  it('constructors may take worker-scoped depends; a producer adds such tasks without opening them', async () => {
    const other = new QTasks({ name: `inj-pool-${Date.now()}`, discover: false, config: { logLevel: 'silent' } });
    try {
      other.register(UsesPool, ClassUsesPool);
      const a = await other.addTask('inj.pool.method');
      const b = await other.addTask('inj.pool.class');
      expect(WorkerRes.opened).toBe(0);
      await other.start();
      expect(await a.result({ timeout: 2_000 })).toBe(1);
      expect(await b.result({ timeout: 2_000 })).toBe(1);
    } finally {
      await other.close();
    }
    expect(WorkerRes.closed).toBe(1);
  });

  it('a class registered in app.container is injected by type, even when registered after register()', async () => {
    const other = new QTasks({ name: `inj-greeter-${Date.now()}`, discover: false, config: { logLevel: 'silent' } });
    try {
      other.register(UsesGreeter);
      other.container.register(Greeter, { useValue: new Greeter() });
      await other.start();
      expect(await (await other.addTask('inj.greeter', ['bob'])).result({ timeout: 2_000 })).toBe('hi bob');
    } finally {
      await other.close();
    }
  });

  it('the method-form class is built once, with app-wide values in its constructor', async () => {
    await app.start();
    const r1 = await (await app.addTask('inj.all', [1, 'a'])).result({ timeout: 2_000 });
    const r2 = await (await app.addTask('inj.all', [1, 'b'])).result({ timeout: 2_000 });
    // `broker`, `config`, `counter` compare the run's values with those of the constructor
    expect([r1, r2]).toEqual([
      expect.objectContaining({ broker: true, config: 3, counter: true }),
      expect.objectContaining({ broker: true, config: 3, counter: true }),
    ]);
    expect(MethodTasks.built).toBe(1);
  });
});
