/**
 * `@State({ name? })` on a class extending `StateStore<T>`.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { META, noteDecorated, StateOptions } from '../metadata';
import type { Constructor } from '../metadata';
import { assertLegacyDecorator } from './compiler-check';

/** Marks a `StateStore` subclass as shared state, stored under the queue and `name`. */
export function State(options: StateOptions = {}): ClassDecorator {
  return ((target: Constructor, context?: unknown) => {
    assertLegacyDecorator('@State', context);
    if (typeof target !== 'function' || typeof target.prototype?.attachStorage !== 'function') {
      throw new QTasksError(ErrorCodes.BAD_DECORATOR, `@State() goes on a class extending StateStore: class ${target?.name} extends StateStore<{ ... }>`);
    }
    Reflect.defineMetadata(META.state, { name: options.name ?? target.name }, target);
    noteDecorated(target);
  }) as ClassDecorator;
}
