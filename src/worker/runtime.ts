/**
 * What the worker needs from its app, kept narrow so the worker does not depend on the facade.
 */
import type { Broker, Outcome } from '../engine/broker';
import type { TaskErrorInfo } from '../errors';
import type { Config } from '../config';
import type { ParamPlan, TaskDefinition } from '../discovery/task-definition';
import type { Constructor } from '../metadata';
import type { Logger } from '../logger';
import type { Storage } from '../engine/storage';
import type { AddTaskFn } from '../task/task-context';
import type { TaskContext } from '../task/task-context';
import type { TaskRecord } from '../task/task-record';
import type { HookRunner } from '../plugins/hook-runner';
import type { RemoteCall } from '../executor/remote-run';

/** Runs a task's body inside the middleware chain. */
export type Pipeline = (ctx: TaskContext, body: () => Promise<unknown>) => Promise<unknown>;

/** A definition made ready to run: its instance (when reusable) and its middleware chain. */
export interface PreparedTask {
  def: TaskDefinition;
  /** Built once when the class need not be built per run. */
  instance: object | undefined;
  fn: (...args: unknown[]) => unknown;
  /** Present only when middleware applies. */
  pipeline: Pipeline | undefined;
  /** Checks and converts arguments before the run (validation); present only when enabled. */
  prepareArgs: ((args: unknown[]) => Promise<unknown[]>) | undefined;
  /** Waits for a rate-limit slot; present only when the task has a rate limit. */
  acquire: ((signal: AbortSignal) => Promise<void>) | undefined;
  /** Runs the attempt in a thread or process (`executor`); absent for inline tasks. */
  remote?: RemoteCall;
}

/** The app as the worker sees it. */
export interface Runtime {
  readonly name: string;
  /** The app this runtime belongs to (what plugin hooks receive as `app`). */
  readonly app?: object;
  readonly broker: Broker;
  readonly storage: Storage;
  readonly config: Config;
  readonly logger: Logger;
  readonly hooks: HookRunner;
  readonly addTask: AddTaskFn;
  /** The prepared task of that name. */
  task(name: string): PreparedTask | undefined;
  /** An app-wide value (Broker, Storage, Config, state, worker depends, container tokens). */
  value(token: unknown): unknown;
  /** Builds a class whose constructor may take run-bound values. */
  construct(def: TaskDefinition, resolve: (index: number) => unknown): object;
  /** The constructor plan of a task-scoped @Depends class. */
  dependsPlan(cls: Constructor): ParamPlan[];
  /** Closes the app gracefully (an operator's `manager.stopWorker`). */
  requestStop?(): void;
  /** Moves a workflow on after one of its tasks ended (before that end is recorded). */
  workflowAdvance?(record: TaskRecord, outcome: Outcome): Promise<void>;
  /** Before a workflow task runs: an error to end it with instead (a flow's failed child). */
  workflowGate?(record: TaskRecord): Promise<TaskErrorInfo | undefined>;
  /** Results of a flow's children, for `ctx.childResults()` of its parent. */
  childResults?(id: string): Promise<unknown[]>;
}
