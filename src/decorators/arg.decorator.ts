/**
 * `@Arg()` on a method parameter: this parameter takes the next task argument, even though its
 * declared type is a class (a DTO or value class the task does not validate). Without it, a
 * class-typed parameter the app cannot inject makes `start()` fail instead of silently receiving
 * an argument.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { META } from '../metadata';

/**
 * Marks a method parameter as a task argument.
 * @example
 * ```ts
 * class Mailer {
 *   @Task({ name: 'mail.send' })
 *   send(mailer: SmtpClient, @Arg() message: Message) { return mailer.send(message); }
 * }
 * ```
 */
export function Arg(): ParameterDecorator {
  return (target: object, key: string | symbol | undefined, index: number) => {
    if (key === undefined) {
      throw new QTasksError(
        ErrorCodes.BAD_DECORATOR,
        `@Arg() on constructor parameter #${index} of ${(target as { name?: string }).name}: constructor parameters are always injected; put @Arg() on a task method's parameter`,
      );
    }
    const prev = Reflect.getOwnMetadata(META.arg, target, key) as Set<number> | undefined;
    Reflect.defineMetadata(META.arg, new Set([...(prev ?? []), index]), target, key);
  };
}
