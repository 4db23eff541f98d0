/**
 * `executor: 'thread'`: a piscina pool of worker threads, each talking to the app on a port of its
 * own (see thread-entry). A run whose signal aborts (timeout,
 * cancel, shutdown) has its thread terminated at once (piscina replaces it), so CPU-bound work
 * really stops; a thread that dies mid-run ends the run `QTASKS_ERR_EXECUTOR_CRASHED`.
 */
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from '../logger';
import { childSetup, entryFile } from './child-spawn';
import type { Job, ParentMessage } from './protocol';
import type { ThreadEnvelope } from './thread-entry';
import type { RemoteRun } from './remote-run';
import { RunChannel } from './run-channel';

/** A pool of `size` threads, made on first use. */
export class ThreadExecutor {
  private pool: Piscina | undefined;
  private seq = 0;
  private readonly jobs = new Map<number, { channel: RunChannel; port: MessagePort | undefined }>();

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
    const id = ++this.seq;
    // answers go back on the port the job's thread talks on
    const entry: { channel: RunChannel; port: MessagePort | undefined } = { channel: undefined as never, port: undefined };
    entry.channel = new RunChannel('thread', run, (msg) => entry.port?.postMessage({ job: id, msg } satisfies ThreadEnvelope<ParentMessage>));
    this.jobs.set(id, entry);
    pool.run({ job, id }, { signal }).then(
      () => undefined,
      (err: unknown) => {
        if (signal.aborted) entry.channel.aborted(signal.reason);
        // what the thread posted before it died is still on its way: read it first
        else setImmediate(() => entry.channel.crashed((err as Error)?.message ?? String(err), err));
      },
    );
    try {
      return await entry.channel.done;
    } finally {
      this.jobs.delete(id);
    }
  }

  /** A new thread's port: messages of its jobs. */
  private attach(port: MessagePort): void {
    port.on('message', (e: ThreadEnvelope<unknown>) => {
      const entry = this.jobs.get(e.job);
      if (entry === undefined) return;
      entry.port = port;
      entry.channel.receive(e.msg);
    });
    port.unref();
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
    pool.on('message', (m: { qtasksPort?: MessagePort } | null) => m?.qtasksPort && this.attach(m.qtasksPort));
    return pool;
  }
}
