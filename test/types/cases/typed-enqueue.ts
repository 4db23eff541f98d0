/**
 * Type tests of typed enqueue, compiled by tsc (test/types.test.ts). Each `@ts-expect-error` line
 * must be an error: tsc reports an unused one, so a check that stops failing fails the test.
 */
import 'reflect-metadata';
import { Logger, QTasks, StateStore, State, Task, TaskContext, TaskHandle, TaskSelf } from 'qtasks';
import type { TaskClient, TaskOf } from 'qtasks';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

@Task({ name: 'add' })
class Add {
  run(a: number, b: number): number {
    return a + b;
  }
}

@Task({ name: 'count', echo: true })
class Count {
  async *run(self: TaskSelf, n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
    await self.addTask('add', [n, 1]);
  }
}

@Task({ name: 'greet' })
class Greet {
  async run(name: string, loud?: boolean): Promise<string> {
    return loud ? name.toUpperCase() : name;
  }
}

@State()
class Stats extends StateStore<{ sent: number }> {}

class Mailer {
  @Task({ name: 'mail.send' })
  async send(ctx: TaskContext, logger: Logger, to: string, subject: string): Promise<{ to: string }> {
    logger.info(ctx.id);
    return { to: subject ? to : '' };
  }

  @Task({ name: 'mail.count' })
  async count(stats: Stats, to: string): Promise<number> {
    await stats.incr('sent');
    return to.length;
  }
}

declare module 'qtasks' {
  interface TaskMap {
    add: TaskOf<typeof Add>;
    'mail.send': TaskOf<typeof Mailer, 'send'>;
    tick: { args: []; result: void };
  }
}

export async function checks(app: QTasks): Promise<void> {
  // class form: arguments and result from run
  const add = app.task(Add);
  expectType<Equal<typeof add, TaskClient<[a: number, b: number], number>>>();
  const h = await add.add(1, 2);
  expectType<Equal<typeof h, TaskHandle<number>>>();
  const n: number = await h.result();
  await add.addWith({ delay: 10, priority: 1 }, 1, 2);
  // @ts-expect-error a string where a number is declared
  await add.add('1', 2);
  // @ts-expect-error a missing argument
  await add.add(1);
  // @ts-expect-error one argument too many
  await add.add(1, 2, 3);
  // @ts-expect-error the options come first in addWith
  await add.addWith(1, 2);
  // @ts-expect-error the result is a number
  const s: string = await h.result();

  // echo: self dropped; generator: the result is the list of yielded items
  const count = app.task(Count);
  expectType<Equal<Parameters<typeof count.add>, [n: number]>>();
  expectType<Equal<Awaited<ReturnType<Awaited<ReturnType<typeof count.add>>['result']>>, number[]>>();
  // @ts-expect-error self is not an argument
  await count.add({} as TaskSelf, 3);

  // optional parameters stay optional; async results are awaited
  const greet = app.task(Greet);
  await greet.add('ann');
  await greet.add('ann', true);
  expectType<Equal<Awaited<ReturnType<Awaited<ReturnType<typeof greet.add>>['result']>>, string>>();

  // method form: leading TaskContext and Logger dropped
  const send = app.task(Mailer, 'send');
  expectType<Equal<Parameters<typeof send.add>, [to: string, subject: string]>>();
  const r: { to: string } = await (await send.add('a@b.c', 'hi')).result();
  // @ts-expect-error the context is injected, not passed
  await send.add({} as TaskContext, 'a@b.c', 'hi');
  // @ts-expect-error not a method of Mailer
  app.task(Mailer, 'sned');
  // a @State class is dropped too (it extends StateStore)
  const countMail = app.task(Mailer, 'count');
  expectType<Equal<Parameters<typeof countMail.add>, [to: string]>>();
  // explicit type parameters when the types cannot tell
  const explicit = app.task<[to: string], number>(Mailer, 'count');
  await explicit.add('x');
  // @ts-expect-error explicit arguments are checked too
  await explicit.add(1);

  // addTask by name: typed for TaskMap names
  const byName = await app.addTask('add', [1, 2]);
  expectType<Equal<typeof byName, TaskHandle<number>>>();
  // @ts-expect-error wrong argument type for a known name
  await app.addTask('add', ['1', 2]);
  // @ts-expect-error a known name needs its arguments
  await app.addTask('add');
  await app.addTask('mail.send', ['a@b.c', 'hi'], { retry: 2 });
  // @ts-expect-error mail.send takes (to, subject)
  await app.addTask('mail.send', ['a@b.c']);
  await app.addTask('tick');
  // names outside the map still compile as before, and <R> still types the handle
  const other = await app.addTask('not.in.map', [1, 'x']);
  expectType<Equal<typeof other, TaskHandle<unknown>>>();
  const cast = await app.addTask<string>('also.unknown');
  expectType<Equal<typeof cast, TaskHandle<string>>>();
  const dynamic: string = String(Math.random());
  await app.addTask(dynamic, [1]);

  // inside a task: the same typing
  const ctx = {} as TaskContext;
  await ctx.addTask('add', [1, 2]);
  // @ts-expect-error nested addTask is typed too
  await ctx.addTask('add', [1]);

  void n;
  void s;
  void r;
}
