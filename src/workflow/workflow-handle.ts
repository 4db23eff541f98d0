/**
 * The handle `app.run()` returns. Its id is the last stage's task (for a group or a flow's
 * children: the stage's first task's id without its member suffix). `result()` follows the
 * stages in order: each stage's tasks exist by the time the stage before them has ended (a
 * workflow moves on before recording an end), so nothing is polled.
 */
import { ResultTimeoutError } from '../errors';
import type { ResultOptions, TaskHandle } from '../task/task-handle';
import type { TaskStatus } from '../task/task-record';
import { nodeId, Plan } from './workflow-plan';

/** A workflow's status: its last task's, or `waiting` while that task does not exist yet. */
export type WorkflowStatus = TaskStatus | 'waiting';

/** What the handle needs from the app. */
export interface WorkflowHandleHost {
  handle(id: string): TaskHandle;
  cancel(id: string, reason: string): Promise<boolean>;
}

/** A handle on a whole workflow: the result of its last stage. */
export class WorkflowHandle<R = unknown> {
  readonly id: string;

  constructor(
    private readonly host: WorkflowHandleHost,
    /** The workflow's id (every task id of it starts with `wf:<id>:`). */
    readonly workflowId: string,
    private readonly plan: Plan,
  ) {
    this.id = nodeId(workflowId, plan.stages.length - 1);
  }

  /** Task ids of stage `i`. */
  private ids(i: number): string[] {
    const st = this.plan.stages[i];
    return st.t === 's' ? [nodeId(this.workflowId, i)] : st.steps.map((_, k) => nodeId(this.workflowId, i, k));
  }

  /**
   * The last stage's result (a list for a group). Throws what the first stage that did not
   * succeed throws (`TaskFailedError`, `TaskCancelledError`), or `ResultTimeoutError`. For a flow,
   * the children's failures are the parent's business (its policy), so only the parent's end counts.
   */
  async result(options: ResultOptions = {}): Promise<R> {
    const until = options.timeout === undefined ? undefined : Date.now() + options.timeout;
    const left = (): ResultOptions => {
      if (until === undefined) return {};
      const ms = until - Date.now();
      if (ms <= 0) throw new ResultTimeoutError(this.id, options.timeout!);
      return { timeout: ms };
    };
    const stages = this.plan.stages.length;
    let value: unknown;
    for (let i = 0; i < stages; i++) {
      const ids = this.ids(i);
      if (this.plan.flow !== undefined && i === 0) {
        await Promise.all(ids.map((id) => this.host.handle(id).result(left()).catch((err: { code?: string }) => {
          if (err?.code === 'QTASKS_ERR_RESULT_TIMEOUT') throw err;
        })));
        continue;
      }
      const results = await Promise.all(ids.map((id) => this.host.handle(id).result(left())));
      value = this.plan.stages[i].t === 's' ? results[0] : results;
    }
    return value as R;
  }

  /** Items streamed by the last stage's task (after the stages before it ended). */
  stream<T = unknown>(): AsyncIterable<T> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const last = self.plan.stages.length - 1;
        if (last > 0) {
          const before = new WorkflowHandle(self.host, self.workflowId, { ...self.plan, stages: self.plan.stages.slice(0, last) });
          await before.result();
        }
        for (const id of self.ids(last)) yield* self.host.handle(id).stream<T>();
      },
    };
  }

  /**
   * The last stage's task's status (a flow's parent is stored `waiting` while its children run),
   * or `waiting` while that task does not exist yet (a later step of a chain); undefined when the
   * workflow is unknown.
   */
  async status(): Promise<WorkflowStatus | undefined> {
    const last = await this.host.handle(this.ids(this.plan.stages.length - 1)[0]).status();
    if (last !== undefined) return last;
    const first = await this.host.handle(this.ids(0)[0]).status();
    return first === undefined ? undefined : 'waiting';
  }

  /** Cancels every task of the workflow that has not ended; true when one was. */
  async cancel(reason = 'workflow cancelled'): Promise<boolean> {
    let any = false;
    for (let i = 0; i < this.plan.stages.length; i++) {
      for (const id of this.ids(i)) if (await this.host.cancel(id, reason).catch(() => false)) any = true;
    }
    return any;
  }
}
