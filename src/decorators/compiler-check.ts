/**
 * Checks, at the moment a decorator runs (when the module is imported), that the code was compiled
 * the way qtasks needs: TypeScript's legacy decorators (`experimentalDecorators`) and, where
 * parameters are injected by type, decorator metadata (`emitDecoratorMetadata`).
 */
import { ErrorCodes, QTasksError } from '../errors';
import { Metadata } from '../metadata';

/**
 * Throws `QTASKS_ERR_TSCONFIG` when `context` is the second argument of a standard (TC39)
 * decorator, which is what TypeScript emits without `experimentalDecorators`.
 */
export function assertLegacyDecorator(decorator: string, context: unknown): void {
  if (context === null || typeof context !== 'object' || !('kind' in context)) return;
  const c = context as { kind: unknown; name?: unknown };
  const on = typeof c.name === 'string' || typeof c.name === 'symbol' ? ` on ${String(c.name)}` : '';
  throw new QTasksError(
    ErrorCodes.TSCONFIG,
    `${decorator}${on} ran as a standard ECMAScript decorator: qtasks needs TypeScript's legacy decorators. ` +
      'Set "experimentalDecorators": true and "emitDecoratorMetadata": true in the compilerOptions of tsconfig.json',
  );
}

/**
 * Throws `QTASKS_ERR_TSCONFIG` for a task method that takes parameters but was compiled without
 * decorator metadata and names none of them with `@Inject`: qtasks could not tell the injected
 * parameters from the task's arguments.
 */
export function assertMethodMetadata(target: object, method: string, fn: (...args: never[]) => unknown, echo: boolean): void {
  if (fn.length <= (echo ? 1 : 0)) return;
  if (Reflect.getOwnMetadata('design:type', target, method) !== undefined) return;
  if (Metadata.injectTokens(target, method).size > 0) return;
  const owner = (target as { constructor?: { name?: string } }).constructor?.name ?? 'a class';
  throw new QTasksError(
    ErrorCodes.TSCONFIG,
    `@Task on ${owner}.${method}: the module was compiled without decorator metadata, so qtasks cannot tell injected parameters ` +
      'from task arguments. Set "emitDecoratorMetadata": true (with "experimentalDecorators": true) in tsconfig.json; ' +
      'with a compiler that cannot emit it (esbuild, tsx), name injected parameters with @Inject(Class), or use the class form (@Task on a class with run(...args))',
  );
}

/**
 * Throws `QTASKS_ERR_TSCONFIG` for a decorated class whose constructor takes parameters that were
 * compiled without decorator metadata and are not named with `@Inject`: nothing could be injected.
 */
export function assertConstructorMetadata(decorator: string, cls: abstract new (...args: never[]) => unknown): void {
  if (cls.length === 0 || Metadata.paramTypes(cls) !== undefined) return;
  const tokens = Metadata.injectTokens(cls);
  for (let i = 0; i < cls.length; i++) if (!tokens.has(i)) {
    throw new QTasksError(
      ErrorCodes.TSCONFIG,
      `${decorator} class ${cls.name}: its constructor parameters carry no types (compiled without decorator metadata), so nothing can be injected. ` +
        'Set "emitDecoratorMetadata": true (with "experimentalDecorators": true) in tsconfig.json, or name each parameter with @Inject(Class)',
    );
  }
}
