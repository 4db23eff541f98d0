/**
 * The app's side of one attempt running in a thread or process: answers what the task asks for
 * (items, progress, nested tasks, shared state) with the run's own context, and forwards its logs.
 */
import type { Storage } from '../engine/storage';
import { ErrorCodes, QTasksError } from '../errors';
import { toErrorInfo } from '../task/task-error-info';
import type { TaskHandle } from '../task/task-handle';
import type { TaskLogLine } from '../task/task-history';
import type { EnqueueOptions } from '../task/task-record';
import type { CallOp, ChildMessage, ParentMessage } from './protocol';
import type { RemoteRun } from './remote-run';
import { storeItems } from '../worker/generator-drain';

/** Serves one run's messages; `reply` posts back to the child. */
export class RunBridge {
  private readonly handles = new Map<string, TaskHandle>();
  /** `stream()`s of added tasks the child is reading, by the number it was given. */
  private readonly streams = new Map<number, AsyncIterator<unknown>>();
  private streamSeq = 0;
  private startedOnce = false;

  constructor(
    private readonly run: RemoteRun,
    private readonly reply: (m: ParentMessage) => void,
  ) {}

  /** True once the child said the attempt started. */
  get started(): boolean {
    return this.startedOnce;
  }

  receive(msg: ChildMessage): void {
    switch (msg.t) {
      case 'start':
        this.startedOnce = true;
        this.run.started();
        return;
      case 'log':
        this.run.ctx.logger[msg.level](msg.message, msg.fields);
        return;
      case 'call':
        this.perform(msg.op, msg.args).then(
          (value) => this.send({ t: 'reply', id: msg.id, ok: true, value }),
          (err) => this.send({ t: 'reply', id: msg.id, ok: false, error: toErrorInfo(err) }),
        );
        return;
      default:
        return;
    }
  }

  /** The run ended: streams the child left unread are closed. */
  close(): void {
    for (const it of this.streams.values()) void it.return?.()?.catch(() => undefined);
    this.streams.clear();
  }

  private send(m: ParentMessage): void {
    try {
      this.reply(m);
    } catch {
      // the child is gone (the run ended): nobody waits for this answer
    }
  }

  private async perform(op: CallOp, args: unknown[]): Promise<unknown> {
    const { ctx, record } = this.run;
    switch (op) {
      case 'item':
        await ctx.broker.pushItem(record, args[0]);
        return undefined;
      case 'items':
        await storeItems(ctx.broker, record, args[0] as unknown[]);
        return undefined;
      case 'progress':
        await ctx.progress(args[0]);
        return undefined;
      case 'log':
        await ctx.storage.appendLog(record.id, args[0] as TaskLogLine);
        return undefined;
      case 'addTask': {
        const handle = await ctx.addTask(args[0] as string, args[1] as unknown[] | undefined, args[2] as EnqueueOptions | undefined);
        this.handles.set(handle.id, handle);
        return handle.id;
      }
      case 'handle':
        return this.onHandle(args[0] as string, args[1] as string, args[2]);
      case 'state':
        return stateOp(ctx.storage, args);
      case 'childResults':
        return ctx.childResults();
      default:
        throw new QTasksError(ErrorCodes.UNSUPPORTED, `Unknown executor call ${String(op)}`);
    }
  }

  private async onHandle(id: string, op: string, arg: unknown): Promise<unknown> {
    const handle = this.handles.get(id);
    if (handle === undefined) throw new QTasksError(ErrorCodes.INVALID_STATE, `No task ${id} was added by this run`);
    switch (op) {
      case 'result':
        return handle.result(arg as { timeout?: number } | undefined);
      case 'status':
        return handle.status();
      case 'cancel':
        return handle.cancel(arg as string | undefined);
      case 'stream': {
        // the child pulls the items one at a time ('next'), so a slow reader holds none here
        const n = ++this.streamSeq;
        this.streams.set(n, handle.stream()[Symbol.asyncIterator]());
        return n;
      }
      case 'next': {
        const it = this.streams.get(arg as number);
        if (it === undefined) return { done: true };
        const r = await it.next();
        if (r.done === true) this.streams.delete(arg as number);
        return r.done === true ? { done: true } : { done: false, value: r.value };
      }
      case 'end': {
        const it = this.streams.get(arg as number);
        this.streams.delete(arg as number);
        await it?.return?.();
        return undefined;
      }
      default:
        throw new QTasksError(ErrorCodes.UNSUPPORTED, `A handle has no ${op}() inside a thread or process`);
    }
  }
}

/** A compare-and-set that found another value: the child computes again from `current`. */
class Conflict {
  constructor(readonly current: unknown) {}
}

/** How a state value is compared between the child's read and the write. */
export function fingerprint(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

async function stateOp(storage: Storage, args: unknown[]): Promise<unknown> {
  const [op, name, key, a, b] = args as [string, string, string, unknown, unknown];
  switch (op) {
    case 'get':
      return storage.stateGet(name, key);
    case 'set':
      return storage.stateSet(name, key, a);
    case 'incr':
      return storage.stateIncr(name, key, a as number);
    case 'delete':
      return storage.stateDelete(name, key);
    case 'all':
      return storage.stateAll(name);
    case 'cas':
      // `update(fn)` runs fn in the child: the write happens only if the value is still the one read
      try {
        await storage.stateUpdate(name, key, (current) => {
          if (fingerprint(current) !== a) throw new Conflict(current);
          return b;
        });
        return { ok: true };
      } catch (err) {
        if (err instanceof Conflict) return { ok: false, current: err.current };
        throw err;
      }
    default:
      throw new QTasksError(ErrorCodes.UNSUPPORTED, `Unknown state operation ${op}`);
  }
}
