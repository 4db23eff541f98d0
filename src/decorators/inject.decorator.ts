/**
 * `@Inject(token)` on a constructor or method parameter: names what to inject explicitly.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { META } from '../metadata';

/**
 * Injects `token` (a class, a string or symbol registered in the container, or `depends(factory)`)
 * into this parameter. Needed where a build tool strips decorator metadata.
 */
export function Inject(token: unknown): ParameterDecorator {
  if (token === undefined || token === null) {
    throw new QTasksError(
      ErrorCodes.BAD_DECORATOR,
      '@Inject(token) got no token: this usually means a circular import left the class undefined; import it from its own file',
    );
  }
  return (target: object, key: string | symbol | undefined, index: number) => {
    const owner = key === undefined ? target : target;
    const prev = (key === undefined ? Reflect.getOwnMetadata(META.inject, owner) : Reflect.getOwnMetadata(META.inject, owner, key)) as
      | Map<number, unknown>
      | undefined;
    const next = new Map(prev ?? []);
    next.set(index, token);
    if (key === undefined) Reflect.defineMetadata(META.inject, next, owner);
    else Reflect.defineMetadata(META.inject, next, owner, key);
  };
}
