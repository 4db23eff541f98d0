/**
 * A logger for tests that keeps every entry (level, message, fields), so that a test can assert on
 * what was logged by level and fields — never by message text.
 */
import { Logger, LogFields } from 'qtasks';

/** One logged entry. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** Keeps every entry of every level; children share the parent's list (with their fields merged). */
export class CapturingLogger extends Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly base: LogFields = {},
  ) {
    super();
  }
  debug(message: string, fields?: LogFields): void {
    this.push('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.push('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.push('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.push('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new CapturingLogger(this.entries, { ...this.base, ...fields });
  }
  /** The fields of every entry at `level`. */
  at(level: LogEntry['level']): LogFields[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.fields);
  }
  private push(level: LogEntry['level'], message: string, fields?: LogFields): void {
    this.entries.push({ level, message, fields: { ...this.base, ...fields } });
  }
}
