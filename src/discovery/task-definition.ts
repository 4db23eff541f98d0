/**
 * What the explorer makes of a decorated class: one definition per task, with a plan saying what
 * each parameter receives.
 */
import type { Constructor, TaskOptions } from '../metadata';
import type { DependsToken } from '../depends';

/** What one parameter receives. */
export type ParamPlan =
  /** the next task argument */
  | { kind: 'arg' }
  /** the run's TaskContext */
  | { kind: 'ctx' }
  /** the run's child logger */
  | { kind: 'logger' }
  /** the echo handle */
  | { kind: 'self' }
  /** something app-wide, resolved once at start (Broker, Storage, Config, state, worker-scoped depends, container tokens) */
  | { kind: 'value'; token: unknown }
  /** a @Depends({ scope: 'task' }) class, opened for this run */
  | { kind: 'depends'; cls: Constructor }
  /** a depends(factory) with task scope, opened for this run */
  | { kind: 'factory'; token: DependsToken }
  /** a class the app cannot inject and that is not marked as an argument: `start()` refuses it */
  | { kind: 'unresolved'; index: number; type: unknown };

/** One task. */
export interface TaskDefinition {
  name: string;
  options: TaskOptions;
  form: 'class' | 'method';
  /** Class holding the task (class form: the task class). */
  cls: Constructor;
  /** Method run (class form: `run`). */
  method: string;
  /** Constructor parameters of `cls`. */
  ctor: ParamPlan[];
  /** Parameters of the method (class form: only `self` with echo; the rest are arguments). */
  params: ParamPlan[];
  /** True when the class is built for each run (class form with run-bound constructor parameters). */
  perRun: boolean;
  /** True when a run needs its TaskContext (any run-bound parameter, echo). */
  needsContext: boolean;
  /** Parameter types of the method, when TypeScript emitted them (for validation). */
  paramTypes?: unknown[];
}

/** A label for messages: `Class.method` or `Class`. */
export function where(def: Pick<TaskDefinition, 'cls' | 'method' | 'form'>): string {
  return def.form === 'class' ? def.cls.name : `${def.cls.name}.${def.method}`;
}
