/**
 * `depends(factory)`: a resource made by a function or an async generator, injected with
 * `@Inject(depends(factory))`.
 */
import type { DependsScope } from '../metadata';
import type { TaskContext } from '../task/task-context';

/** A function that opens a resource; an async generator yields it once and closes it after. */
export type DependsFactory<T = unknown> = (ctx: TaskContext) => T | Promise<T> | AsyncGenerator<T, unknown, unknown>;

/** The token `depends()` returns. */
export class DependsToken<T = unknown> {
  constructor(
    readonly factory: DependsFactory<T>,
    readonly scope: DependsScope,
  ) {}
}

/**
 * Names a factory as an injectable resource.
 * @example
 * ```ts
 * const conn = depends(async function* () { const c = await open(); yield c; await c.end(); });
 * class T { @Task() run(@Inject(conn) c: Conn, id: string) {} }
 * ```
 */
export function depends<T>(factory: DependsFactory<T>, options: { scope?: DependsScope } = {}): DependsToken<T> {
  return new DependsToken(factory, options.scope ?? 'task');
}

/**
 * Closes a factory generator after use: resumes it past its `yield` so the code after it runs
 * (`return()` alone would skip that code and run only `finally` blocks).
 */
export async function closeFactory(gen: AsyncGenerator<unknown>): Promise<void> {
  const step = await gen.next();
  if (!step.done) await gen.return(undefined);
}
