/**
 * The error for an option or setting nobody knows: names it, the closest known name and every known
 * one, so that a typo is a clear error at construction, never a silently ignored setting.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { closestName } from './closest-name';

/** The error for an unknown key: names it, the closest known name and every known one. */
export function unknownOption(what: string, key: string, known: readonly string[]): QTasksError {
  const near = closestName(key, known);
  return new QTasksError(
    ErrorCodes.BAD_OPTION,
    `${what}${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`,
    { details: { option: key, closest: near } },
  );
}
