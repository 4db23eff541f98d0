/**
 * `@Depends({ scope })` on a class with optional `open()` / `close()`.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { DependsOptions, META, noteDecorated } from '../metadata';
import type { Constructor } from '../metadata';
import { assertConstructorMetadata, assertLegacyDecorator } from './compiler-check';

/**
 * A resource opened before use and closed after: per run (`scope: 'task'`, the default) or once per
 * worker (`'worker'`).
 */
export function Depends(options: DependsOptions = {}): ClassDecorator {
  const scope = options.scope ?? 'task';
  if (scope !== 'task' && scope !== 'worker') {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `@Depends scope must be 'task' or 'worker', got ${JSON.stringify(scope)}`);
  }
  return ((target: Constructor, context?: unknown) => {
    assertLegacyDecorator('@Depends', context);
    assertConstructorMetadata('@Depends', target);
    Reflect.defineMetadata(META.depends, { scope }, target);
    noteDecorated(target);
  }) as ClassDecorator;
}
