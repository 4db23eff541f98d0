/**
 * A small argument parser for the CLI: `-A/--app`, `-h`, `-v`, `--flag value`, `--flag=value`, positionals.
 */
import { ErrorCodes, QTasksError } from '../errors';

/** Parsed command line. */
export interface ParsedArgs {
  app?: string;
  command?: string;
  positionals: string[];
  flags: Record<string, string | true>;
}

/** Flags that may be given more than once; their values are joined with commas. */
const REPEATABLE = new Set(['plugin']);

const VALUE_FLAGS = new Set(['queue', 'plugin', 'concurrency', 'timeout', 'priority', 'delay', 'id', 'port', 'host', 'token', 'file', 'status', 'limit', 'retry', 'batch', 'url', 'schema']);

/** Parses `argv` (without node and script). */
export function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-A' || a === '--app') {
      out.app = argv[++i];
      if (!out.app) throw new QTasksError(ErrorCodes.CLI_USAGE, `${a} needs a module: -A path/to/app.ts[:export]`);
    } else if (a.startsWith('--app=')) out.app = a.slice(6);
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const set = (key: string, v: string) => {
        const prev = out.flags[key];
        out.flags[key] = REPEATABLE.has(key) && typeof prev === 'string' ? `${prev},${v}` : v;
      };
      if (eq > 0) set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const key = a.slice(2);
        if (VALUE_FLAGS.has(key)) {
          const v = argv[++i];
          if (v === undefined) throw new QTasksError(ErrorCodes.CLI_USAGE, `--${key} needs a value`);
          set(key, v);
        } else out.flags[key] = true;
      }
    } else if (a === '-h') out.flags.help = true;
    else if (a === '-v') out.flags.version = true;
    else if (/^-[A-Za-z]/.test(a)) throw new QTasksError(ErrorCodes.CLI_USAGE, `unknown option ${a} (the short options are -A, -h, -v)`);
    else if (out.command === undefined) out.command = a;
    else out.positionals.push(a);
  }
  return out;
}

/** A numeric flag, or undefined; throws a usage error for a non-number. */
export function numberFlag(flags: ParsedArgs['flags'], name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isFinite(n)) throw new QTasksError(ErrorCodes.CLI_USAGE, `--${name} takes a number`);
  return n;
}
