/**
 * The child's side of the conversation with the app: calls that wait for an answer, one-way logs,
 * and a logger that forwards every line to the app's logger.
 */
import { ErrorCodes, QTasksError, TaskErrorInfo } from '../errors';
import { Logger, LogFields } from '../logger';
import { toErrorInfo } from '../task/task-error-info';
import type { CallOp, ChildMessage, ParentMessage } from './protocol';

type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

/** Talks to the app for the job running now. */
export class ParentLink {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();

  constructor(private readonly post: (m: ChildMessage) => void) {}

  /** Asks the app; resolves with its answer or rejects with its error (code kept). */
  call(op: CallOp, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        this.post({ t: 'call', id, op, args });
      } catch (err) {
        this.waiting.delete(id);
        reject(err);
      }
    });
  }

  /** An answer from the app. */
  receive(m: ParentMessage): void {
    if (m.t !== 'reply') return;
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(rebuild(m.error));
  }

  started(): void {
    this.post({ t: 'start' });
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void {
    try {
      this.post({ t: 'log', level, message, fields });
    } catch {
      // fields that cannot be cloned (functions, sockets): send a JSON-safe copy
      this.post({ t: 'log', level, message, fields: plainFields(fields) });
    }
  }
}

/** The app's error, as a QTasksError when it had a code (so `code` and `instanceof` work). */
function rebuild(info: TaskErrorInfo): Error {
  const err = info.code !== undefined ? new QTasksError(info.code, info.message) : new Error(info.message);
  err.name = info.name;
  return err;
}

function plainFields(fields: LogFields | undefined): LogFields | undefined {
  if (fields === undefined) return undefined;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = toErrorInfo(v);
    else {
      try {
        out[k] = JSON.parse(JSON.stringify(v) ?? 'null');
      } catch {
        out[k] = String(v);
      }
    }
  }
  return out;
}

/** A logger whose lines go to the app's logger (through the job running now). */
export class ForwardLogger extends Logger {
  constructor(
    private readonly link: () => ParentLink | undefined,
    private readonly bindings: LogFields = {},
  ) {
    super();
  }
  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new ForwardLogger(this.link, { ...this.bindings, ...fields });
  }
  private write(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void {
    const link = this.link();
    // a line written between jobs (a detached callback) has nowhere to go
    if (link === undefined) return;
    link.log(level, message, fields === undefined ? this.bindings : { ...this.bindings, ...fields });
  }
}

/** Thrown by what a thread or process cannot offer (the broker, most of the storage). */
export function notInChild(what: string): QTasksError {
  return new QTasksError(
    ErrorCodes.UNSUPPORTED,
    `${what} is not available to a task running in a thread or process executor: use ctx.addTask, ctx.progress, @State, or run the task inline`,
  );
}
