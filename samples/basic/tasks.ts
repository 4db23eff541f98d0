/**
 * The basic sample's tasks: a class task, method tasks with injection, a generator that streams,
 * and a task that adds a nested task.
 */
import 'reflect-metadata';
import { Logger, Task, TaskContext, TaskSelf } from 'qtasks';

/** Class form: `run` is the task. */
@Task({ name: 'add' })
export class Add {
  run(a: number, b: number): number {
    return a + b;
  }
}

/** Method form: one class, several tasks; parameters are injected by type, the rest are arguments. */
export class Text {
  @Task({ name: 'text.upper', retry: 2, timeout: 5_000 })
  upper(ctx: TaskContext, text: string): string {
    ctx.logger.debug('upper', { length: text.length });
    return text.toUpperCase();
  }

  @Task({ name: 'text.words' })
  words(log: Logger, text: string): number {
    log.debug('counting words');
    return text.split(/\s+/).filter(Boolean).length;
  }
}

/** A generator task: every item is streamed as it is yielded; the result is the list. */
@Task({ name: 'countdown', echo: true })
export class Countdown {
  async *run(self: TaskSelf, from: number) {
    for (let i = from; i > 0; i--) {
      await new Promise((r) => setTimeout(r, 10));
      yield i;
    }
    // a nested task: its parentId is this task's id
    const child = await self.addTask<number>('add', [from, 1]);
    yield await child.result();
  }
}
