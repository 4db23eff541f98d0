/**
 * The shape of one CLI command.
 */
import type { QTasks } from '../app/qtasks';
import type { ParsedArgs } from './args';

/** Where a command writes. */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** One subcommand of `qtasks -A app <command>`. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** The `--flags` it takes (without dashes); any other flag is a usage error. */
  flags: readonly string[];
  /** Runs before the app module is loaded (e.g. to set environment overrides). */
  beforeLoad?(args: ParsedArgs): void;
  /** Runs the command without an app module (`-A` not needed); resolves with the exit code. */
  standalone?(args: ParsedArgs, io: CliIO): Promise<number>;
  /** Runs the command; resolves with the process exit code. */
  run(app: QTasks, args: ParsedArgs, io: CliIO): Promise<number>;
}
