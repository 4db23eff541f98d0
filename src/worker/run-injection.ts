/**
 * What a run's parameters receive: its context, logger and echo handle, app-wide values, and the
 * task-scoped `@Depends` resources it opens — kept, with their closers, until the run ends.
 */
import { closeFactory, DependsToken } from '../depends';
import type { ParamPlan } from '../discovery/task-definition';
import { ErrorCodes, QTasksError } from '../errors';
import type { Logger } from '../logger';
import type { Constructor } from '../metadata';
import type { TaskRecord } from '../task/task-record';
import { isGenerator } from './generator-drain';
import type { RunContext } from './run-context';
import type { PreparedTask, Runtime } from './runtime';

/** Closes a resource opened for a run. */
export type Closer = () => unknown;

/** What injection needs from its attempt. */
export interface InjectionHost {
  readonly rec: TaskRecord;
  readonly runtime: Runtime;
  readonly task: PreparedTask;
  /** The run's context, made on first use. */
  context(): RunContext;
  /** True once the attempt ended (a resource opened later is closed at once). */
  ended(): boolean;
}

/** Resolves the parameters of one run and keeps what it opened. */
export class RunInjection {
  /** Closers of the resources opened for this run, in opening order. */
  closers: Closer[] | undefined;

  constructor(private readonly host: InjectionHost) {}

  /** The task's instance: built for this run when it is not shared. */
  async instance(): Promise<object> {
    const { task, runtime } = this.host;
    if (task.instance !== undefined) return task.instance;
    const values: unknown[] = [];
    for (const p of task.def.ctor) values.push(await this.resolve(p));
    return runtime.construct(task.def, (i) => values[i]);
  }

  /** The arguments of the task's method: injected values in their places, the rest in order. */
  async callArgs(args: unknown[]): Promise<unknown[]> {
    const params = this.host.task.def.params;
    if (params.length === 0) return args;
    const callArgs: unknown[] = [];
    let next = 0;
    for (const p of params) callArgs.push(p.kind === 'arg' ? args[next++] : await this.resolve(p));
    for (; next < args.length; next++) callArgs.push(args[next]);
    return callArgs;
  }

  private async resolve(p: ParamPlan): Promise<unknown> {
    const host = this.host;
    switch (p.kind) {
      case 'ctx':
        return host.context();
      case 'logger':
        return host.context().logger;
      case 'self':
        return host.context().self();
      case 'value':
        return host.runtime.value(p.token);
      case 'depends':
        return this.openClass(p.cls);
      case 'factory':
        return this.openFactory(p.token);
      case 'unresolved':
        // never planned for a started app (start() refuses it); the test kit's runTask checks first
        throw new QTasksError(ErrorCodes.UNRESOLVED_PARAM, `Parameter #${p.index} of task ${host.rec.name} cannot be injected`);
      default:
        return undefined;
    }
  }

  private async openClass(cls: Constructor): Promise<unknown> {
    const plan: ParamPlan[] = this.host.runtime.dependsPlan(cls);
    const values: unknown[] = [];
    for (const p of plan) values.push(await this.resolve(p));
    const instance = new (cls as new (...a: unknown[]) => { open?: () => unknown; close?: () => unknown })(...values);
    if (typeof instance.open === 'function') await instance.open();
    this.addCloser(() => instance.close?.());
    return instance;
  }

  private async openFactory(token: DependsToken): Promise<unknown> {
    const made = token.factory(this.host.context());
    if (made !== null && typeof made === 'object' && isGenerator(made)) {
      const gen = made as AsyncGenerator<unknown>;
      const first = await gen.next();
      this.addCloser(() => closeFactory(gen));
      return first.value;
    }
    return made;
  }

  /** Keeps a closer for the end of the run; once the run has ended (timeout, cancel), closes at once. */
  private addCloser(close: Closer): void {
    if (!this.host.ended()) {
      (this.closers ??= []).push(close);
      return;
    }
    void (async () => close())().catch((err) => this.host.context().logger.error('A @Depends resource failed to close', { error: err }));
  }
}

/** Closes a run's resources, last opened first; a failing close is logged, the others still run. */
export async function closeAll(closers: Closer[], logger: () => Logger): Promise<void> {
  for (let i = closers.length - 1; i >= 0; i--) {
    try {
      await closers[i]();
    } catch (err) {
      logger().error('A @Depends resource failed to close', { error: err });
    }
  }
}
