/**
 * `TaskMap`: task names known to the type checker, so that `addTask('name', args)` checks its
 * arguments and types its result. Empty here; a project fills it by declaration merging.
 */
import type { EnqueueOptions } from './task-record';
import type { TaskHandle } from './task-handle';

/**
 * Known tasks by name, each `{ args: [...]; result: R }`. Augment it in your project:
 * @example
 * ```ts
 * declare module 'qtasks' {
 *   interface TaskMap {
 *     add: { args: [a: number, b: number]; result: number };
 *     'mail.send': TaskOf<typeof Mailer, 'send'>;
 *   }
 * }
 * ```
 * Names not in the map still compile (`addTask<R>(name, args)` as before).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-empty-object-type
export interface TaskMap {}

/** The shape every `TaskMap` entry has. */
export interface TaskMapEntry {
  args: unknown[];
  result: unknown;
}

/** A name of the `TaskMap`. */
export type KnownTaskName = keyof TaskMap & string;

/** The arguments of a known task. */
export type KnownTaskArgs<K extends KnownTaskName> = TaskMap[K] extends { args: infer A extends unknown[] } ? A : unknown[];

/** The result of a known task. */
export type KnownTaskResult<K extends KnownTaskName> = TaskMap[K] extends { result: infer R } ? R : unknown;

/** `N` when it is not a name of the `TaskMap`, else `never` (so a known name takes the typed path). */
export type UnknownTaskName<N extends string> = [N] extends [KnownTaskName] ? never : N;

/** The rest of an `addTask` call for a known task: its arguments (optional when it takes none). */
export type KnownTaskRest<K extends KnownTaskName> = [] extends KnownTaskArgs<K>
  ? [args?: KnownTaskArgs<K>, opts?: EnqueueOptions]
  : [args: KnownTaskArgs<K>, opts?: EnqueueOptions];

/** `addTask` typed by the {@link TaskMap} for its names, untyped for the others. */
export interface AddTaskFn {
  <K extends KnownTaskName>(name: K, ...rest: KnownTaskRest<K>): Promise<TaskHandle<KnownTaskResult<K>>>;
  <R = unknown, N extends string = string>(name: N & UnknownTaskName<N>, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<R>>;
}
