/**
 * An enqueue while the app's own worker has a finish call (with a claim) in flight: that worker
 * wants nothing more until the call answers, so the enqueue must leave the queue's marker for it.
 * Without the marker, the call answers "queue empty" (it ran before the enqueue), the worker blocks
 * on the marker and the new task waits for the blocking pop's safety timeout (5 s).
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';
import { redisQueueFixture } from './redis-support';

jest.setTimeout(60_000);

let producer: QTasks | undefined;
const queued: Promise<unknown>[] = [];

class WakeupTasks {
  /** Ends, and enqueues the next task right behind its end (while the finish call is in flight). */
  @Task({ name: 'wk.then' })
  then(next: string): string {
    setImmediate(() => {
      if (producer) queued.push(producer.addTask('wk.echo', [next]).then((h) => h.result({ timeout: 4_000 })));
    });
    return 'ended';
  }

  @Task({ name: 'wk.echo' })
  echo(v: string): string {
    return v;
  }
}

describe('Redis engine: an enqueue racing the worker of its own app', () => {
  const fx = redisQueueFixture('wk', WakeupTasks);
  afterEach(() => {
    producer = undefined;
    queued.length = 0;
  });

  it.each([1, 2])('runs a task enqueued while its finish call is in flight at once (concurrency %i)', async (concurrency) => {
    const app = fx.app({ concurrency });
    producer = app;
    await app.start();
    for (let i = 0; i < 10; i++) {
      const h = await app.addTask('wk.then', [`n${i}`]);
      await expect(h.result({ timeout: 4_000 })).resolves.toBe('ended');
      while (queued.length === 0) await new Promise((r) => setImmediate(r));
      // the safety pop would answer after 5 s: the result times out at 4 s
      await expect(queued.shift()).resolves.toBe(`n${i}`);
    }
  });
});
