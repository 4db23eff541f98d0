/**
 * The executors of one app: gives each `thread` or `process` task its remote call, makes the pools
 * on first use (a producer never starts one) and closes them after the worker stopped.
 */
import { existsSync } from 'node:fs';
import type { Config, ConfigValues } from '../config';
import type { TaskDefinition } from '../discovery/task-definition';
import { where } from '../discovery/task-definition';
import type { Logger } from '../logger';
import type { ExecutorKind } from '../metadata';
import type { PreparedTask } from '../worker/runtime';
import { ProcessExecutor } from './process-executor';
import { ExecutorModuleError } from './remote-run';
import { makeJob } from './run-channel';
import { ThreadExecutor } from './thread-executor';

/** What the executors need from their app. */
export interface ExecutorsHost {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  /** Every task definition of the app (their modules are preloaded by new threads and processes). */
  definitions(): TaskDefinition[];
}

/** True for a task that runs in a thread or a process. */
export function runsElsewhere(def: TaskDefinition): boolean {
  const kind: ExecutorKind | undefined = def.options.executor;
  return kind === 'thread' || kind === 'process';
}

/** The thread and process pools of one app. */
export class Executors {
  private threads: ThreadExecutor | undefined;
  private processes: ProcessExecutor | undefined;

  constructor(private readonly host: ExecutorsHost) {}

  /** A registry preparer: gives a thread or process task its remote call; checks its module. */
  readonly prepare = (task: PreparedTask): void => {
    const def = task.def;
    if (!runsElsewhere(def)) return;
    const kind = def.options.executor as 'thread' | 'process';
    const module = def.options.module;
    if (module === undefined) {
      throw new ExecutorModuleError(`${where(def)} runs in a ${kind} but its module is unknown: pass @Task({ module: __filename })`);
    }
    if (!existsSync(module)) {
      throw new ExecutorModuleError(`${where(def)} runs in a ${kind} from ${module}, which does not exist: pass @Task({ module }) the file that exports it`);
    }
    const host = this.host;
    task.remote = (run) => {
      const job = makeJob(run, module, host.name, (host.config as Config & { toJSON(): ConfigValues }).toJSON());
      return kind === 'thread' ? this.threadPool().run(run, job) : this.processPool().run(run, job);
    };
  };

  /** Terminates the pools (after the worker stopped: nothing runs in them any more). */
  async close(): Promise<void> {
    const { threads, processes } = this;
    this.threads = undefined;
    this.processes = undefined;
    await Promise.all([threads?.close(), processes?.close()]);
  }

  private threadPool(): ThreadExecutor {
    return (this.threads ??= new ThreadExecutor(this.host.config.threads, this.host.logger, () => this.modules('thread')));
  }

  private processPool(): ProcessExecutor {
    return (this.processes ??= new ProcessExecutor(this.host.config.processes, this.host.logger, () => this.modules('process')));
  }

  private modules(kind: 'thread' | 'process'): string[] {
    const files = new Set<string>();
    for (const d of this.host.definitions()) if (d.options.executor === kind && d.options.module) files.add(d.options.module);
    return [...files];
  }
}
