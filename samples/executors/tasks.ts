/**
 * The executors sample's tasks. CPU-bound work runs in a worker thread or a child process, so it
 * never blocks the worker's event loop. A thread or process loads this file by path to find the
 * classes: they are exported, and the file does nothing else when it is loaded.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Task, TaskContext } from 'qtasks';

/** Hashes `rounds` times: pure CPU. In a thread, the app's event loop stays free meanwhile. */
@Task({ name: 'hash', executor: 'thread', timeout: 10_000 })
export class Hash {
  constructor(private readonly ctx: TaskContext) {}

  async run(text: string, rounds: number): Promise<string> {
    this.ctx.logger.info('hashing in a thread', { rounds });
    let h = text;
    for (let i = 0; i < rounds; i++) h = createHash('sha256').update(h).digest('hex');
    await this.ctx.progress({ rounds });
    return h.slice(0, 16);
  }
}

/** A loop that never ends: its timeout terminates the thread (an inline task would run on). */
@Task({ name: 'runaway', executor: 'thread', timeout: 300 })
export class Runaway {
  run(): never {
    for (;;) createHash('sha256').update('spin').digest();
  }
}

/** Runs in a child process of the pool: a crash there would not take the app down. */
@Task({ name: 'where', executor: 'process' })
export class Where {
  run(): number {
    return process.pid;
  }
}
