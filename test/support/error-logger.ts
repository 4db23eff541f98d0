/**
 * A logger for tests that keeps the messages of `error()` (what isolated hook and timer failures
 * are reported through) and drops everything else.
 */
import { Logger, LogFields } from 'qtasks';

/** Collects error messages; other levels are silent. */
export class ErrorCollectingLogger extends Logger {
  readonly errors: string[] = [];
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(message: string, _fields?: LogFields): void {
    this.errors.push(message);
  }
  child(): Logger {
    return this;
  }
}
