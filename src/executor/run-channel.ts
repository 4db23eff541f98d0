/**
 * Waits for the end of one job sent to a thread or process: the `done` message settles it, a dead
 * child rejects it with `QTASKS_ERR_EXECUTOR_CRASHED`, an aborted run (timeout, cancel, shutdown)
 * rejects it with the abort reason once the child is stopped.
 */
import { ChildMessage, isChildMessage, ParentMessage } from './protocol';
import { RunBridge } from './run-bridge';
import { ExecutorCrashedError, RemoteOutcome, RemoteRun } from './remote-run';
import type { TaskRecord } from '../task/task-record';
import type { Job } from './protocol';
import type { ConfigValues } from '../config';

/** One job in flight: feed it the child's messages, then `crashed` or `aborted` if it dies first. */
export class RunChannel {
  readonly done: Promise<unknown>;
  private settle!: (value: unknown) => void;
  private fail!: (err: unknown) => void;
  private settled = false;
  private readonly bridge: RunBridge;

  constructor(
    private readonly kind: 'thread' | 'process',
    run: RemoteRun,
    reply: (m: ParentMessage) => void,
  ) {
    this.bridge = new RunBridge(run, reply);
    this.done = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  /** A message from the child. */
  receive(m: unknown): void {
    if (this.settled || !isChildMessage(m)) return;
    if (m.t === 'done') {
      this.settled = true;
      this.bridge.close();
      const o = m.outcome;
      if (o.status === 'success') this.settle(o.returning);
      else if (o.status === 'handback') this.fail(new ExecutorCrashedError(this.kind, 'it handed the task back'));
      else this.fail(new RemoteOutcome(o));
      return;
    }
    this.bridge.receive(m as ChildMessage);
  }

  /** The child died (or its channel closed) before the end. */
  crashed(why: string, cause?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.bridge.close();
    this.fail(new ExecutorCrashedError(this.kind, why, cause));
  }

  /** The run was aborted in the app; the child is being stopped. */
  aborted(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.bridge.close();
    this.fail(reason);
  }

  /** True once the end is known. */
  get ended(): boolean {
    return this.settled;
  }
}

/** The job of a run: a plain copy of its record (engines may keep richer objects) with its arguments. */
export function makeJob(run: RemoteRun, module: string, queue: string, config: ConfigValues): Job {
  const r = run.record;
  const record: TaskRecord = {
    id: r.id,
    name: r.name,
    status: r.status,
    priority: r.priority,
    args: run.args,
    attempt: r.attempt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    parentId: r.parentId,
    retry: r.retry,
    backoff: r.backoff,
    timeout: r.timeout,
  };
  return { module, queue, record, config };
}
