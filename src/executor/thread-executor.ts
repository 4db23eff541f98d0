/**
 * `executor: 'thread'`: a piscina pool of worker threads. A run whose signal aborts (timeout,
 * cancel, shutdown) has its thread terminated at once (piscina replaces it), so CPU-bound work
 * really stops; a thread that dies mid-run ends the run `QTASKS_ERR_EXECUTOR_CRASHED`.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from '../logger';
import { childSetup, entryFile } from './child-spawn';
import type { Job } from './protocol';
import type { RemoteRun } from './remote-run';
import { RunChannel } from './run-channel';

/** A pool of `size` threads, made on first use. */
export class ThreadExecutor {
  private pool: Piscina | undefined;

  constructor(
    private readonly size: number,
    private readonly logger: Logger,
    /** Task modules the threads load as they start. */
    private readonly preload: () => string[],
  ) {}

  /** Runs one job; resolves with the task's value. */
  async run(run: RemoteRun, job: Job): Promise<unknown> {
    const pool = (this.pool ??= this.makePool());
    const signal = run.ctx.signal;
    const { port1, port2 } = new MessageChannel();
    const channel = new RunChannel('thread', run, (m) => port1.postMessage(m));
    port1.on('message', (m) => channel.receive(m));
    // the thread's port closes when it ends or dies: a job not done by then never will be
    port1.on('close', () => setImmediate(() => channel.crashed('its thread ended')));
    pool.run({ job, port: port2 }, { signal, transferList: [port2] }).then(
      () => undefined,
      (err: unknown) => {
        if (signal.aborted) channel.aborted(signal.reason);
        else channel.crashed((err as Error)?.message ?? String(err), err);
      },
    );
    try {
      return await channel.done;
    } finally {
      port1.close();
    }
  }

  /** Terminates every thread. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.destroy();
  }

  private makePool(): Piscina {
    const { execArgv, env } = childSetup();
    const pool = new Piscina({
      filename: entryFile('thread-entry'),
      minThreads: this.size,
      maxThreads: this.size,
      // idle threads stay (they hold loaded modules); they do not keep the process alive
      idleTimeout: 2_147_483_647,
      // let a thread's own event loop run between jobs (timers and sockets of its resources)
      atomics: 'async',
      execArgv,
      env,
      workerData: { qtasksPreload: this.preload() },
    });
    pool.on('error', (err: unknown) => this.logger.error('A thread of the executor pool failed', { error: err }));
    return pool;
  }
}
