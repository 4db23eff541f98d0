/**
 * Type-level reading of a task's signature: the arguments a producer passes and the result it gets
 * back, inferred from the class form's `run` or from a task method. Nothing here exists at run time.
 */
import type { Broker } from '../engine/broker';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { StateStore } from '../state/state-store';
import type { Storage } from '../engine/storage';
import type { TaskContext, TaskSelf } from './task-context';

/** True when `T` is `any` (then nothing can be said about it). */
type IsAny<T> = 0 extends 1 & T ? true : false;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStateStore = StateStore<any>;

/**
 * Parameter types the worker injects by type in the method form, dropped from the front of a task
 * method's parameters. Other injected classes (`@State`, `@Depends`, container tokens) cannot be
 * told from arguments by their type: name the arguments with `app.task<[...args], Result>(...)`.
 */
export type InjectedParam = TaskContext | TaskSelf | Logger | Broker | Storage | Config | AnyStateStore;

/** The parameters left once the leading injected ones are dropped. */
export type DropInjected<P extends unknown[]> = P extends [infer H, ...infer Rest]
  ? IsAny<H> extends true
    ? P
    : [H] extends [InjectedParam]
      ? DropInjected<Rest>
      : P
  : P;

/** The parameters of `run` without the leading `TaskSelf` an `echo` task receives. */
export type DropSelf<P extends unknown[]> = P extends [infer H, ...infer Rest]
  ? IsAny<H> extends true
    ? P
    : [H] extends [TaskSelf]
      ? Rest
      : P
  : P;

/**
 * What `result()` gives for a task body returning `R`: the list of yielded items for a generator,
 * the awaited value otherwise. (The value travels as JSON: a `Date` comes back as its ISO string.)
 */
export type TaskResultOf<R> =
  R extends AsyncGenerator<infer Y, unknown, never> ? Y[] : R extends Generator<infer Y, unknown, never> ? Y[] : Awaited<R>;

/** A class whose `run` is the task (the class form). */
export type TaskClass = abstract new (...args: never[]) => { run: AnyFunction };

/** The arguments of a class-form task. */
export type TaskArgsOf<C extends TaskClass> = DropSelf<Parameters<InstanceType<C>['run']>>;

/** The result of a class-form task. */
export type TaskReturnOf<C extends TaskClass> = TaskResultOf<ReturnType<InstanceType<C>['run']>>;

/** Names of the methods of `T` (candidates for the method form). */
export type MethodName<T> = { [K in keyof T]: T[K] extends AnyFunction ? K : never }[keyof T] & string;

/** The arguments of a method-form task: its parameters without the leading injected ones. */
export type MethodArgsOf<F> = F extends AnyFunction ? DropInjected<Parameters<F>> : unknown[];

/** The result of a method-form task. */
export type MethodReturnOf<F> = F extends AnyFunction ? TaskResultOf<ReturnType<F>> : unknown;

/**
 * The `{ args, result }` entry of a task, for the {@link TaskMap}.
 * @example
 * ```ts
 * declare module 'qtasks' { interface TaskMap { add: TaskOf<typeof Add>; 'mail.send': TaskOf<typeof Mailer, 'send'> } }
 * ```
 */
export type TaskOf<C, M extends string = never> = [M] extends [never]
  ? C extends TaskClass
    ? { args: TaskArgsOf<C>; result: TaskReturnOf<C> }
    : never
  : C extends abstract new (...args: never[]) => infer T
    ? M extends keyof T
      ? { args: MethodArgsOf<T[M]>; result: MethodReturnOf<T[M]> }
      : never
    : never;

/** `T` once the arguments `A` were given explicitly (their default `[never]` is replaced), else `never`. */
export type ExplicitOnly<A extends unknown[], T> = [A] extends [[never]] ? never : T;
