/**
 * Checks the flags of a command line against what the command takes, so that a typo
 * (`inspect --jsn`) is a usage error naming the closest known flag instead of being ignored.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { nearName } from '../config/closest-name';
import type { ParsedArgs } from './args';

/** Flags every command takes (`--url` picks the engine of an app that names none). */
export const GLOBAL_FLAGS: readonly string[] = ['help', 'version', 'url'];

/** Throws `QTASKS_ERR_CLI_USAGE` for the first flag `known` does not list. */
export function checkFlags(args: ParsedArgs, known: readonly string[], where: string): void {
  const all = [...known, ...GLOBAL_FLAGS];
  for (const flag of Object.keys(args.flags)) {
    if (all.includes(flag)) continue;
    const near = nearName(flag, all);
    throw new QTasksError(
      ErrorCodes.CLI_USAGE,
      `unknown option --${flag} for ${where}${near ? ` (did you mean --${near}?)` : ''}; it takes ${known.map((f) => `--${f}`).join(' ') || 'no options'}`,
    );
  }
}
