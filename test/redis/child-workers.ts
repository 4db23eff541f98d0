/**
 * Starts worker child processes (test/redis/fixtures/worker.js) for the Redis integration tests,
 * collects what they report over IPC, and stops them (gracefully or with SIGKILL).
 */
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { QTasks, Task } from 'qtasks';
import { REDIS_URL, waitFor } from './redis-support';

/** A message a worker process sends. */
export interface WorkerMessage {
  type: 'ready' | 'run' | 'event';
  id?: string;
  attempt?: number;
  label?: unknown;
  event?: string;
  status?: string;
  pid?: number;
}

/** One worker process and what it reported. */
export class ChildWorker {
  readonly messages: WorkerMessage[] = [];
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;

  constructor(env: Record<string, string>) {
    this.proc = fork(join(__dirname, 'fixtures/worker.js'), [], {
      env: { ...process.env, REDIS_URL, ...env },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m) => this.messages.push(m as WorkerMessage));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves once the worker started (it listens and claims). */
  ready(timeoutMs = 20_000): Promise<void> {
    return waitFor(() => this.messages.some((m) => m.type === 'ready'), `worker ${this.pid} to start`, timeoutMs);
  }

  runs(id?: string): WorkerMessage[] {
    return this.messages.filter((m) => m.type === 'run' && (id === undefined || m.id === id));
  }

  events(event: string): WorkerMessage[] {
    return this.messages.filter((m) => m.type === 'event' && m.event === event);
  }

  /** Asks the worker to close its app and exit; resolves with its exit code. */
  async close(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.connected) this.proc.send({ cmd: 'close' });
    return this.exited;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/** Starts `n` worker processes on one queue and waits until they run. */
export async function startWorkers(n: number, env: Record<string, string>): Promise<ChildWorker[]> {
  const workers = Array.from({ length: n }, () => new ChildWorker(env));
  await Promise.all(workers.map((w) => w.ready()));
  return workers;
}

/** Registers stand-ins of the fixture's tasks on a producer app (a producer never runs them). */
export function registerFixtureTasks(app: QTasks): QTasks {
  for (const name of ['it.record', 'it.fanout', 'it.flaky', 'it.gen', 'it.count']) {
    const Stub = class {
      run(): void {
        throw new Error('runs in a worker process');
      }
    };
    Object.defineProperty(Stub, 'name', { value: `Stub_${name.replace('.', '_')}` });
    Task({ name })(Stub);
    app.register(Stub);
  }
  return app;
}
