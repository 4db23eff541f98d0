/**
 * Checks the flags of a command line against what the command takes, so that a typo
 * (`inspect --jsn`) is a usage error naming the closest known flag instead of being ignored.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { ParsedArgs } from './args';

/** Flags every command takes (`--url` picks the engine of an app that names none). */
export const GLOBAL_FLAGS: readonly string[] = ['help', 'version', 'url'];

/** Throws `QTASKS_ERR_CLI_USAGE` for the first flag `known` does not list. */
export function checkFlags(args: ParsedArgs, known: readonly string[], where: string): void {
  const all = [...known, ...GLOBAL_FLAGS];
  for (const flag of Object.keys(args.flags)) {
    if (all.includes(flag)) continue;
    const near = closest(flag, all);
    throw new QTasksError(
      ErrorCodes.CLI_USAGE,
      `unknown option --${flag} for ${where}${near ? ` (did you mean --${near}?)` : ''}; it takes ${known.map((f) => `--${f}`).join(' ') || 'no options'}`,
    );
  }
}

/** The known name nearest to `word` by edit distance, when near enough to be a typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
