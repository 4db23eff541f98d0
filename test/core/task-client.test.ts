/**
 * `app.task(...)`: the typed client enqueues the right task name with the given arguments and
 * options, for the class form and the method form; a class or method that is no task is refused.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task, TaskContext } from 'qtasks';

@Task({ name: 'tc.add' })
class Add {
  run(a: number, b: number): number {
    return a + b;
  }
}

@Task()
class Twice {
  async *run(n: number): AsyncGenerator<number> {
    yield n;
    yield n * 2;
  }
}

class Mailer {
  @Task({ name: 'tc.mail' })
  async send(ctx: TaskContext, to: string): Promise<string> {
    return `${ctx.name}:${to}`;
  }

  @Task()
  upper(s: string): string {
    return s.toUpperCase();
  }

  plain(): void {}
}

class NotATask {
  run(): void {}
}

let app: QTasks;
beforeEach(async () => {
  app = new QTasks({ name: `task-client-${process.pid}-${Date.now()}`, discover: false });
  app.register(Add, Twice, Mailer);
  await app.start();
});
afterEach(() => app.close());

test('class form: add(...args) enqueues the class task and types its result', async () => {
  const add = app.task(Add);
  expect(add.name).toBe('tc.add');
  const h = await add.add(2, 3);
  expect(await h.result({ timeout: 5_000 })).toBe(5);
  expect((await app.getTask(h.id))?.args).toEqual([2, 3]);
  expect(await add.handle(h.id).result({ timeout: 5_000 })).toBe(5);
});

test('class form without a name: the class name; a generator gives its items', async () => {
  const twice = app.task(Twice);
  expect(twice.name).toBe('Twice');
  expect(await (await twice.add(4)).result({ timeout: 5_000 })).toEqual([4, 8]);
});

test('addWith passes the enqueue options', async () => {
  const h = await app.task(Add).addWith({ id: 'tc-dedup', priority: 3 }, 1, 1);
  expect(h.id).toBe('tc-dedup');
  expect((await app.getTask('tc-dedup'))?.priority).toBe(3);
  const again = await app.task(Add).addWith({ id: 'tc-dedup' }, 9, 9);
  expect(again.id).toBe('tc-dedup');
  expect(await again.result({ timeout: 5_000 })).toBe(2);
});

test('method form: the method task, its injected parameters left to the worker', async () => {
  const send = app.task(Mailer, 'send');
  expect(send.name).toBe('tc.mail');
  expect(await (await send.add('a@b.c')).result({ timeout: 5_000 })).toBe('tc.mail:a@b.c');
  const upper = app.task(Mailer, 'upper');
  expect(upper.name).toBe('Mailer.upper');
  expect(await (await upper.add('x')).result({ timeout: 5_000 })).toBe('X');
});

test('a class or method that is not a task is refused with BAD_DECORATOR', () => {
  expect(() => app.task(NotATask as never)).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_DECORATOR }));
  expect(() => app.task(Mailer as never)).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_DECORATOR }));
  expect(() => app.task(Mailer, 'plain')).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_DECORATOR }));
});
