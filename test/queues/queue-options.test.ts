/**
 * The shape of named queues: `queues` on the app, `queue` on `@Task` and on enqueue options,
 * checked where they are given (QTASKS_ERR_BAD_OPTION), and the settings an engine reads in its
 * context.
 */
import 'reflect-metadata';
import { constructionError } from '../support/env-and-errors';
import { Broker, EngineContext, ErrorCodes, MemoryBroker, MemoryStorage, QTasks, Task } from 'qtasks';


/** A memory broker that keeps the context it was given. */
class SeeingBroker extends MemoryBroker {
  seen: EngineContext | undefined;
  override async init(ctx: EngineContext): Promise<void> {
    this.seen = ctx;
    await super.init(ctx);
  }
}

describe('queues option', () => {
  it('refuses bad queue settings at construction', () => {
    for (const queues of [
      'emails',
      [],
      { emails: 5 },
      { emails: { concurrency: 0 } },
      { emails: { concurrency: 1.5 } },
      { emails: { concurrency: '2' } },
      { emails: { partitions: 0 } },
      { emails: { partitions: 2.5 } },
      { emails: { partitions: 100_000 } },
      { 'two words': {} },
      { '{tag}': {} },
    ]) {
      expect(constructionError({ name: 'qo1', queues })).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    }
    expect(constructionError({ name: 'qo1', queues: { emails: { concurency: 2 } } })).toMatchObject({
      code: ErrorCodes.BAD_OPTION,
      details: { option: 'concurency', closest: 'concurrency' },
    });
  });

  it('accepts good settings and hands the engine its queue settings (defaults applied)', async () => {
    const broker = new SeeingBroker();
    const app = new QTasks({ name: 'qo2', broker, storage: new MemoryStorage(), concurrency: 7, queues: { qo2: { partitions: 3 }, other: { concurrency: 2 } } });
    await app.init();
    expect(broker.seen?.queue).toBe('qo2');
    expect(broker.seen?.queueOptions).toEqual({ concurrency: 7, partitions: 3 });
    await app.close();
    const plain = new SeeingBroker();
    const app2 = new QTasks({ name: 'qo3', broker: plain as Broker, storage: new MemoryStorage() });
    await app2.init();
    expect(plain.seen?.queueOptions).toEqual({ concurrency: 10, partitions: 1 });
    await app2.close();
  });
});

describe('queue on @Task and on enqueue options', () => {
  it('@Task refuses a queue that is not a queue name', () => {
    expect(() => Task({ name: 'qo.bad', queue: '' })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    expect(() => Task({ name: 'qo.bad', queue: 'a b' })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });

  it('addTask refuses a queue option that is not a queue name', async () => {
    @Task({ name: 'qo.add' })
    class Add {
      run(a: number) {
        return a;
      }
    }
    const app = new QTasks({ name: 'qo4', discover: false }).register(Add);
    await expect(app.addTask('qo.add', [1], { queue: 42 as unknown as string })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app.addTask('qo.add', [1], { queue: '{x}' })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await app.close();
  });
});

describe('an engine of one queue per app', () => {
  /** A memory broker without the sibling capability, as a third-party engine may be. */
  const SingleQueueBroker = class extends MemoryBroker {
    constructor() {
      super();
      Object.defineProperty(this, 'sibling', { value: undefined });
    }
  };

  it('refuses a second consumed queue at construction, and another queue at addTask, with QTASKS_ERR_UNSUPPORTED', async () => {
    expect(() => new QTasks({ name: 'sq1', broker: new SingleQueueBroker(), storage: new MemoryStorage(), queues: { other: {} } })).toThrow(
      expect.objectContaining({ code: ErrorCodes.UNSUPPORTED }),
    );
    @Task({ name: 'sq.elsewhere', queue: 'sq-elsewhere' })
    class Elsewhere {
      run(): number {
        return 1;
      }
    }
    const app = new QTasks({ name: 'sq2', discover: false, broker: new SingleQueueBroker(), storage: new MemoryStorage() }).register(Elsewhere);
    await expect(app.addTask('sq.elsewhere')).rejects.toMatchObject({ code: ErrorCodes.UNSUPPORTED });
    await app.close();
  });
});
