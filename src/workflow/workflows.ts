/**
 * Runs workflows: `run()` keeps the plan in the storage and enqueues the first stage; a worker
 * that ends a task of a workflow moves it on (before recording that end), from whichever process
 * started it. Nothing is kept in one process's memory: workers, producers and restarts share it.
 */
import { randomBytes } from 'node:crypto';
import type { Outcome } from '../engine/broker';
import type { Storage } from '../engine/storage';
import { ErrorCodes, QTasksError, TaskErrorInfo, TaskNotFoundError } from '../errors';
import type { TaskHandle } from '../task/task-handle';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import { toErrorInfo } from '../task/task-error-info';
import { compile, nodeId, nodeOf, Plan, planNames, PlanStep, WORKFLOW_STATE } from './workflow-plan';
import { failedChildResult, Workflow } from './workflow-spec';
import { WorkflowHandle } from './workflow-handle';

/** What workflows need from the app. */
export interface WorkflowHost {
  readonly storage: Storage;
  init(): Promise<void>;
  hasTask(name: string): boolean;
  addTask(name: string, args: unknown[], opts: EnqueueOptions): Promise<TaskHandle>;
  /** Stores a task `waiting` without queueing it; false when the engine cannot (see `release`). */
  holdTask?(name: string, args: unknown[], opts: EnqueueOptions): Promise<boolean>;
  /** Queues a task `holdTask` stored; false when none waits under that id. */
  releaseTask?(name: string, id: string, opts: EnqueueOptions): Promise<boolean>;
  handle(id: string): TaskHandle;
  cancel(id: string, reason: string): Promise<boolean>;
}

/** One child's end as kept for its parent. */
type ChildEntry = { ok: unknown } | { err: TaskErrorInfo };

/** Starts and moves on the workflows of one app. */
export class Workflows {
  /** Plans read by this process (they never change once written). */
  private readonly plans = new Map<string, Plan>();

  constructor(private readonly host: WorkflowHost) {}

  /** Checks, stores and starts `spec`; rejects before enqueueing anything when it is not valid. */
  async run(spec: Workflow): Promise<WorkflowHandle> {
    const plan = compile(spec);
    for (const name of planNames(plan)) if (!this.host.hasTask(name)) throw new TaskNotFoundError(name);
    await this.host.init();
    const wf = randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x');
    // refuses arguments that are not JSON before anything is enqueued
    await this.host.storage.stateSet(WORKFLOW_STATE, wf, plan);
    this.remember(wf, plan);
    if (plan.flow !== undefined && this.host.holdTask !== undefined) {
      // the parent exists from the start, stored `waiting` (no slot, not queued) until its children ended
      const parent = plan.stages[1];
      if (parent.t === 's') await this.host.holdTask(parent.step.name, parent.step.args, { ...parent.step.opts, id: nodeId(wf, 1) });
    }
    await this.startStage(wf, plan, 0, undefined);
    return new WorkflowHandle(this.host, wf, plan);
  }

  /** After a task of a workflow ended (in the worker, before its end is recorded). */
  async advance(rec: TaskRecord, outcome: Outcome): Promise<void> {
    const node = nodeOf(rec.id);
    if (node === undefined) return;
    if (outcome.status !== 'success' && outcome.status !== 'error' && outcome.status !== 'cancel') return;
    const plan = await this.plan(node.wf);
    const stage = plan?.stages[node.stage];
    if (plan === undefined || stage === undefined) return;
    const last = node.stage + 1 >= plan.stages.length;
    const entry: ChildEntry = outcome.status === 'success'
      ? { ok: outcome.returning }
      : {
          err: outcome.status === 'error'
            ? outcome.error
            : toErrorInfo(new QTasksError(ErrorCodes.TASK_CANCELLED, `Task ${rec.id} was cancelled${outcome.reason ? `: ${outcome.reason}` : ''}`)),
        };
    const children = plan.flow !== undefined && node.stage === 0;
    if (children && 'err' in entry && plan.flow === 'fail') return this.failFlow(node.wf, plan, node.member ?? 0, rec, entry.err);
    if (stage.t === 's') {
      // a chain stops at a step that failed or was cancelled; the last step ends the workflow
      if ('err' in entry || last) return this.forget(node.wf, plan);
      return this.startStage(node.wf, plan, node.stage + 1, { value: entry.ok });
    }
    const member = node.member ?? 0;
    const { storage } = this.host;
    await storage.stateSet(WORKFLOW_STATE, `${node.wf}:r:${node.stage}.${member}`, entry);
    const doneKey = `${node.wf}:d:${node.stage}`;
    // the members that ended, a set: a member run again after a stall counts once
    const done =
      storage.stateAddMember !== undefined
        ? await storage.stateAddMember(WORKFLOW_STATE, doneKey, member)
        : ((await storage.stateUpdate(WORKFLOW_STATE, doneKey, (v) => {
            const set = Array.isArray(v) ? (v as number[]) : [];
            return set.includes(member) ? set : [...set, member];
          })) as number[]).length;
    if (done < stage.steps.length) return;
    if (children) return this.startStage(node.wf, plan, 1, undefined);
    const entries = await this.entries(node.wf, node.stage, stage.steps.length);
    if (last || entries.some((e) => 'err' in e)) return this.forget(node.wf, plan);
    return this.startStage(node.wf, plan, node.stage + 1, { value: entries.map((e) => ('ok' in e ? e.ok : undefined)) });
  }

  /** Deletes what the storage keeps of a workflow that can move no further. */
  private async forget(wf: string, plan: Plan): Promise<void> {
    this.plans.delete(wf);
    const keys = [wf, `${wf}:failed`];
    plan.stages.forEach((st, i) => {
      if (st.t !== 'g') return;
      keys.push(`${wf}:d:${i}`);
      st.steps.forEach((_, k) => keys.push(`${wf}:r:${i}.${k}`));
    });
    await Promise.all(keys.map((k) => this.host.storage.stateDelete(WORKFLOW_STATE, k)));
  }

  /** An error to end a flow's parent with instead of running it (a child failed under 'fail'). */
  async gate(rec: TaskRecord): Promise<TaskErrorInfo | undefined> {
    const node = nodeOf(rec.id);
    if (node === undefined || node.stage !== 1 || node.member !== undefined) return undefined;
    const plan = await this.plan(node.wf);
    if (plan?.flow === undefined) return undefined;
    const failed = (await this.host.storage.stateGet(WORKFLOW_STATE, `${node.wf}:failed`)) as { id: string; name: string; error: TaskErrorInfo } | undefined;
    if (failed === undefined) return undefined;
    return toErrorInfo(
      new QTasksError(ErrorCodes.CHILD_FAILED, `Child ${failed.id} (${failed.name}) failed: ${failed.error?.message ?? 'error'}; the parent does not run (onChildError: 'fail')`),
    );
  }

  /** Results of the children of flow parent `id`, in children order. */
  async childResults(id: string): Promise<unknown[]> {
    const node = nodeOf(id);
    const plan = node === undefined ? undefined : await this.plan(node.wf);
    if (node === undefined || plan?.flow === undefined || node.stage !== 1) {
      throw new QTasksError(ErrorCodes.INVALID_STATE, `ctx.childResults() is for the parent of a flow (app.run(flow({ … }))); task ${id} is not one`);
    }
    const first = plan.stages[0];
    const n = first.t === 'g' ? first.steps.length : 0;
    const entries = await this.entries(node.wf, 0, n);
    const policy = plan.flow;
    return entries.map((e) => ('ok' in e ? e.ok : failedChildResult(policy, e.err)));
  }

  private async failFlow(wf: string, plan: Plan, member: number, rec: TaskRecord, error: TaskErrorInfo): Promise<void> {
    await this.host.storage.stateSet(WORKFLOW_STATE, `${wf}:failed`, { id: rec.id, name: rec.name, error });
    // the parent is enqueued so that it exists and ends CHILD_FAILED at once (see gate)
    await this.startStage(wf, plan, 1, undefined);
    const first = plan.stages[0];
    const n = first.t === 'g' ? first.steps.length : 0;
    for (let k = 0; k < n; k++) {
      if (k !== member) await this.host.cancel(nodeId(wf, 0, k), `a sibling (${rec.id}) failed`).catch(() => false);
    }
  }

  private async entries(wf: string, stage: number, n: number): Promise<ChildEntry[]> {
    const raw = await Promise.all(Array.from({ length: n }, (_, k) => this.host.storage.stateGet(WORKFLOW_STATE, `${wf}:r:${stage}.${k}`)));
    return raw.map((e) => (e !== null && typeof e === 'object' && ('ok' in e || 'err' in e) ? (e as ChildEntry) : { ok: undefined }));
  }

  private async startStage(wf: string, plan: Plan, index: number, input: { value: unknown } | undefined): Promise<void> {
    const stage = plan.stages[index];
    const parentId = plan.flow !== undefined && index === 0 ? nodeId(wf, 1) : undefined;
    const add = (s: PlanStep, id: string): Promise<TaskHandle> =>
      this.host.addTask(s.name, input === undefined ? s.args : [...s.args, input.value], { ...s.opts, id, ...(parentId ? { parentId } : {}) });
    if (stage.t === 's' && plan.flow !== undefined && index === 1 && this.host.releaseTask !== undefined) {
      // the parent held since the start is queued; an engine that could not hold it gets it now
      const id = nodeId(wf, index);
      if (await this.host.releaseTask(stage.step.name, id, { ...stage.step.opts, id })) return;
    }
    if (stage.t === 's') await add(stage.step, nodeId(wf, index));
    else await Promise.all(stage.steps.map((s, k) => add(s, nodeId(wf, index, k))));
  }

  private async plan(wf: string): Promise<Plan | undefined> {
    const known = this.plans.get(wf);
    if (known !== undefined) return known;
    const plan = (await this.host.storage.stateGet(WORKFLOW_STATE, wf)) as Plan | undefined;
    if (plan === undefined || plan === null || typeof plan !== 'object' || !Array.isArray(plan.stages)) return undefined;
    this.remember(wf, plan);
    return plan;
  }

  private remember(wf: string, plan: Plan): void {
    if (this.plans.size >= 1_000) this.plans.delete(this.plans.keys().next().value as string);
    this.plans.set(wf, plan);
  }
}
