/**
 * Type tests of named queues, compiled by tsc (test/types.test.ts): the `queues` option, `queue`
 * on `@Task` and on enqueue options, and the manager's calls that take a queue.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';
import type { QueueInfo, QueueOptions, TaskStatus, WorkerInfo } from 'qtasks';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

@Task({ name: 'image.resize', queue: 'images' })
export class Resize {
  run(w: number): number {
    return w;
  }
}

// @ts-expect-error a queue is a name
@Task({ name: 'bad.queue', queue: 3 })
export class BadQueue {
  run(): void {}
}

const settings: QueueOptions = { concurrency: 5, partitions: 3 };
export const app = new QTasks({ name: 'api', queues: { emails: settings, images: { concurrency: 1 } } });
// @ts-expect-error concurrency is a number
void new QTasks({ queues: { emails: { concurrency: '5' } } });
// @ts-expect-error a queue's settings are concurrency and partitions
void new QTasks({ queues: { emails: { workers: 2 } } });

export async function use(): Promise<void> {
  await app.addTask('image.resize', [1], { queue: 'images' });
  // @ts-expect-error opts.queue is a name
  await app.addTask('image.resize', [1], { queue: ['images'] });
  const queues = await app.manager.queues();
  expectType<Equal<typeof queues, QueueInfo[]>>();
  expectType<Equal<QueueInfo['counts'], Record<TaskStatus, number>>>();
  expectType<Equal<QueueInfo['workers'], WorkerInfo[]>>();
  expectType<Equal<Awaited<ReturnType<typeof app.manager.counts>>, Record<TaskStatus, number>>>();
  await app.manager.list({ queue: 'images', status: 'new' });
  await app.manager.pause('images');
  await app.manager.resume('images');
  await app.manager.purge('success', 'images');
  await app.manager.stats({ queue: 'images' });
  await app.handle('m1', { queue: 'images' }).status();
  // @ts-expect-error the queue of a purge comes after the status
  await app.manager.purge('images', 'success');
}
