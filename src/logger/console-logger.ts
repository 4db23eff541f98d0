/**
 * Default logger: one line per message on stderr, JSON fields, filtered by level.
 */
import { LogFields, Logger, LogLevel } from './logger';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Writes `level message {fields}` lines to stderr. */
export class ConsoleLogger extends Logger {
  private readonly min: number;

  constructor(readonly level: LogLevel = 'info', private readonly fields: LogFields = {}) {
    super();
    this.min = RANK[level] ?? RANK.info;
  }

  debug(message: string, fields?: LogFields): void { this.write('debug', message, fields); }
  info(message: string, fields?: LogFields): void { this.write('info', message, fields); }
  warn(message: string, fields?: LogFields): void { this.write('warn', message, fields); }
  error(message: string, fields?: LogFields): void { this.write('error', message, fields); }

  child(fields: LogFields): Logger {
    return new ConsoleLogger(this.level, { ...this.fields, ...fields });
  }

  private write(level: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[level] < this.min) return;
    const all = fields ? { ...this.fields, ...fields } : this.fields;
    let tail = '';
    if (Object.keys(all).length > 0) {
      try {
        tail = ' ' + JSON.stringify(all, errorReplacer);
      } catch {
        tail = ' [fields not serializable]';
      }
    }
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${tail}\n`);
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}
