/**
 * The logging interface every component and task uses; a class so that it is a DI token too.
 */

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Logger used by qtasks and injected into tasks. Replace it with `new QTasks({ logger })`. */
export abstract class Logger {
  abstract debug(message: string, fields?: LogFields): void;
  abstract info(message: string, fields?: LogFields): void;
  abstract warn(message: string, fields?: LogFields): void;
  abstract error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  abstract child(fields: LogFields): Logger;
}
