/**
 * `executor: 'process'`: a pool of child processes (forked), one job at a time each. A run whose
 * signal aborts (timeout, cancel, shutdown) has its process killed at once and replaced; a process
 * that dies mid-run (exit, signal, out of memory) ends the run `QTASKS_ERR_EXECUTOR_CRASHED`.
 */
import { ChildProcess, fork } from 'node:child_process';
import type { Logger } from '../logger';
import { childSetup, entryFile } from './child-spawn';
import type { Job } from './protocol';
import type { RemoteRun } from './remote-run';
import { RunChannel } from './run-channel';

/** One child process of the pool. */
interface Child {
  proc: ChildProcess;
  /** The job it runs now. */
  channel: RunChannel | undefined;
  exited: Promise<void>;
}

/** A pool of at most `size` processes, started on first use and kept warm. */
export class ProcessExecutor {
  private readonly children = new Set<Child>();
  private readonly idle: Child[] = [];
  private readonly waiting: ((c: Child) => void)[] = [];
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly logger: Logger,
    private readonly preload: () => string[],
  ) {}

  /** Runs one job; resolves with the task's value. */
  async run(run: RemoteRun, job: Job): Promise<unknown> {
    const signal = run.ctx.signal;
    const child = await this.acquire(signal);
    const channel = new RunChannel('process', run, (m) => child.proc.send(m));
    child.channel = channel;
    const onAbort = (): void => {
      channel.aborted(signal.reason);
      this.kill(child);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.hold(child, true);
    child.proc.send({ t: 'run', job }, (err) => err && channel.crashed(`the job could not be sent: ${err.message}`, err));
    try {
      return await channel.done;
    } finally {
      signal.removeEventListener('abort', onAbort);
      child.channel = undefined;
      if (this.children.has(child)) this.release(child);
    }
  }

  /** Stops every process (they exit when the app disconnects; killed if they do not). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.children];
    for (const c of all) {
      if (c.proc.connected) c.proc.disconnect();
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), 2_000);
      void c.exited.then(() => clearTimeout(timer));
    }
    await Promise.all(all.map((c) => c.exited));
  }

  private acquire(signal: AbortSignal): Promise<Child> {
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    if (this.children.size < this.size) return Promise.resolve(this.spawn());
    return new Promise((resolve, reject) => {
      const take = (c: Child): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(c);
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(take);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(take);
    });
  }

  private release(child: Child): void {
    const next = this.waiting.shift();
    if (next) return next(child);
    this.hold(child, false);
    this.idle.push(child);
  }

  private spawn(): Child {
    const { execArgv, env } = childSetup();
    const proc = fork(entryFile('process-entry'), [], {
      execArgv,
      env: { ...env, QTASKS_EXECUTOR_PRELOAD: JSON.stringify(this.preload()) },
      serialization: 'advanced',
      stdio: 'inherit',
    });
    let exitedResolve!: () => void;
    const child: Child = { proc, channel: undefined, exited: new Promise((r) => (exitedResolve = r)) };
    this.children.add(child);
    proc.on('message', (m) => child.channel?.receive(m));
    proc.on('error', (err) => this.logger.error('A process of the executor pool failed', { error: err }));
    proc.on('exit', (code, sig) => {
      // false when the pool killed it (and already started its replacement)
      const died = this.children.delete(child);
      const at = this.idle.indexOf(child);
      if (at >= 0) this.idle.splice(at, 1);
      child.channel?.crashed(sig ? `its process was killed by ${sig}` : `its process exited with code ${code}`);
      exitedResolve();
      if (died && !this.closed) this.release(this.spawn());
    });
    this.hold(child, false);
    return child;
  }

  private kill(child: Child): void {
    this.children.delete(child);
    const at = this.idle.indexOf(child);
    if (at >= 0) this.idle.splice(at, 1);
    child.proc.kill('SIGKILL');
    // the replacement starts loading now, not when the next job comes
    if (!this.closed) this.release(this.spawn());
  }

  /** A busy process keeps the app's process alive; an idle one does not. */
  private hold(child: Child, busy: boolean): void {
    const channel = child.proc.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (busy) {
      child.proc.ref();
      channel?.ref?.();
    } else {
      child.proc.unref();
      channel?.unref?.();
    }
  }
}
