/**
 * `PinoLogger`: the qtasks `Logger` on top of pino, for structured JSON logs. Errors in fields are
 * serialized with pino's error serializer (name, message, stack, code).
 */
import pino from 'pino';
import type { DestinationStream, Logger as Pino, LoggerOptions } from 'pino';
import { LogFields, Logger } from '../../logger';

/**
 * A qtasks logger writing through pino.
 * @example
 * ```ts
 * const app = new QTasks({ name: 'mail', logger: new PinoLogger({ level: 'info' }) });
 * const app2 = new QTasks({ logger: new PinoLogger(pino(pino.destination('/var/log/q.log'))) });
 * ```
 */
export class PinoLogger extends Logger {
  /** The pino logger underneath. */
  readonly pino: Pino;

  /** Takes a pino logger, or pino options (and an optional destination) to make one. */
  constructor(target?: Pino | LoggerOptions, destination?: DestinationStream) {
    super();
    this.pino = isPino(target) ? target : destination ? pino(target ?? {}, destination) : pino(target ?? {});
  }

  debug(message: string, fields?: LogFields): void {
    if (this.pino.isLevelEnabled('debug')) this.pino.debug(plain(fields), message);
  }
  info(message: string, fields?: LogFields): void {
    if (this.pino.isLevelEnabled('info')) this.pino.info(plain(fields), message);
  }
  warn(message: string, fields?: LogFields): void {
    if (this.pino.isLevelEnabled('warn')) this.pino.warn(plain(fields), message);
  }
  error(message: string, fields?: LogFields): void {
    if (this.pino.isLevelEnabled('error')) this.pino.error(plain(fields), message);
  }

  child(fields: LogFields): Logger {
    return new PinoLogger(this.pino.child(plain(fields)));
  }
}

function isPino(t: unknown): t is Pino {
  return typeof t === 'object' && t !== null && typeof (t as Pino).child === 'function' && typeof (t as Pino).isLevelEnabled === 'function';
}

function plain(fields: LogFields | undefined): LogFields {
  if (fields === undefined) return {};
  let out: LogFields | undefined;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (v instanceof Error) (out ??= { ...fields })[key] = pino.stdSerializers.err(v);
  }
  return out ?? fields;
}
