/**
 * The error of strict injection: a method parameter typed with a class that the app cannot inject
 * and that is not marked as an argument. It names the task, the parameter (as written in the
 * source when it can be read) and both fixes.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { paramNames } from './param-names';
import { TaskDefinition, where } from './task-definition';

/** The error for a class-typed parameter that is neither a service the app knows nor an argument. */
export function unresolvedParam(def: TaskDefinition, index: number, type: unknown): QTasksError {
  const fn = (def.cls.prototype as Record<string, unknown>)[def.method] as (...a: never[]) => unknown;
  const name = paramNames(fn)[index];
  const param = name === undefined ? `parameter #${index}` : `parameter "${name}" (#${index})`;
  const t = describe(type);
  return new QTasksError(
    ErrorCodes.UNRESOLVED_PARAM,
    `Task "${def.name}" (${where(def)}): ${param} is typed ${t}, a class this app cannot inject, so it would silently receive a task argument. ` +
      `If it is a service, register it (app.container.register(${t}, { useClass: ${t} })) or decorate ${t} with @injectable(); ` +
      `if it is a task argument, mark the parameter @Arg() (or validate it as a DTO: @Task({ validate: true }))`,
    { details: { task: def.name, parameter: name ?? index, type: t } },
  );
}

function describe(token: unknown): string {
  return typeof token === 'function' ? (token as { name: string }).name || 'an anonymous class' : String(token);
}
