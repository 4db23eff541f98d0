/**
 * A workflow compiled into stages, kept in the engine's storage (state `__qtasks_wf`) so that any
 * worker process can move it on. Each task of a workflow has an id made from the workflow's id
 * and its place (`wf:<id>:<stage>` for a step, `wf:<id>:<stage>.<k>` for the k-th task of a
 * group): starting a stage twice (a worker killed after starting it) enqueues nothing new, since
 * an add with an existing id returns the existing task.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { ChildErrorPolicy, isChildErrorPolicy, Workflow, WorkflowStepOptions } from './workflow-spec';

/** The state name workflow plans and progress live under. */
export const WORKFLOW_STATE = '__qtasks_wf';

/** One task of a stage. */
export interface PlanStep {
  name: string;
  args: unknown[];
  opts?: WorkflowStepOptions;
}

/** A stage: one step (`s`) or steps in parallel (`g`). */
export type PlanStage = { t: 's'; step: PlanStep } | { t: 'g'; steps: PlanStep[] };

/** A compiled workflow. */
export interface Plan {
  v: 1;
  stages: PlanStage[];
  /** Set for a flow: stage 0 is its children, stage 1 its parent (which reads their results). */
  flow?: ChildErrorPolicy;
}

const ID = /^wf:([A-Za-z0-9]+):(\d+)(?:\.(\d+))?$/;

/** Where a task id sits in a workflow, or undefined for a task of no workflow. */
export function nodeOf(id: string): { wf: string; stage: number; member: number | undefined } | undefined {
  if (id.charCodeAt(0) !== 119 /* w */) return undefined;
  const m = ID.exec(id);
  if (!m) return undefined;
  return { wf: m[1], stage: Number(m[2]), member: m[3] === undefined ? undefined : Number(m[3]) };
}

/** The task id of a step (`member` for a task of a group). */
export function nodeId(wf: string, stage: number, member?: number): string {
  return member === undefined ? `wf:${wf}:${stage}` : `wf:${wf}:${stage}.${member}`;
}

function bad(message: string): never {
  throw new QTasksError(ErrorCodes.BAD_OPTION, message);
}

function planStep(s: unknown, where: string): PlanStep {
  if (s === null || typeof s !== 'object' || (s as { kind?: unknown }).kind !== 'step') {
    bad(`${where} must be a step(name, args?) (got ${s === null ? 'null' : typeof s === 'object' ? (s as { kind?: string }).kind ?? 'an object' : typeof s})`);
  }
  const { name, args, opts } = s as { name: unknown; args: unknown; opts?: WorkflowStepOptions };
  if (typeof name !== 'string' || name === '') bad(`${where}: a step needs a task name`);
  if (!Array.isArray(args)) bad(`${where} (${name}): args must be an array`);
  return { name, args: [...(args as unknown[])], ...(opts ? { opts } : {}) };
}

/**
 * Checks a workflow spec and compiles it. A malformed spec (an empty chain or group, a stage that
 * is not a step or group, a spec that contains itself) throws `QTASKS_ERR_BAD_OPTION` before
 * anything is enqueued.
 */
export function compile(spec: Workflow): Plan {
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (seen.has(v)) bad('A workflow spec contains itself (a cycle): build it from step(), chain(), group() and flow() values');
    seen.add(v);
    for (const child of Object.values(v as Record<string, unknown>)) visit(child);
    seen.delete(v);
  };
  visit(spec);
  if (spec === null || typeof spec !== 'object') bad('app.run() takes a workflow made with step(), chain(), group() or flow()');
  switch (spec.kind) {
    case 'step':
      return { v: 1, stages: [{ t: 's', step: planStep(spec, 'step') }] };
    case 'group':
      return { v: 1, stages: [groupStage(spec.steps, 'group')] };
    case 'chain': {
      if (!Array.isArray(spec.stages) || spec.stages.length === 0) bad('chain() needs at least one step or group');
      return {
        v: 1,
        stages: spec.stages.map((s, i) =>
          s !== null && typeof s === 'object' && s.kind === 'group' ? groupStage(s.steps, `chain stage ${i}`) : { t: 's' as const, step: planStep(s, `chain stage ${i}`) },
        ),
      };
    }
    case 'flow': {
      if (!isChildErrorPolicy(spec.onChildError)) bad(`flow onChildError must be 'fail', 'ignore' or 'continue', not ${JSON.stringify(spec.onChildError)}`);
      if (!Array.isArray(spec.children) || spec.children.length === 0) bad('flow() needs at least one child (without children, use step())');
      const children = spec.children.map((c, i) => planStep({ kind: 'step', name: c?.name, args: c?.args ?? [], opts: c?.opts }, `flow child ${i}`));
      const parent = planStep({ kind: 'step', name: spec.name, args: spec.args, opts: spec.opts }, 'flow parent');
      return { v: 1, stages: [{ t: 'g', steps: children }, { t: 's', step: parent }], flow: spec.onChildError };
    }
    default:
      return bad(`app.run() takes a workflow made with step(), chain(), group() or flow(), not ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
  }
}

function groupStage(steps: unknown, where: string): PlanStage {
  if (!Array.isArray(steps) || steps.length === 0) bad(`${where}: group() needs at least one step`);
  return { t: 'g', steps: (steps as unknown[]).map((s, i) => planStep(s, `${where}, step ${i}`)) };
}

/** Every task name a plan enqueues. */
export function planNames(plan: Plan): string[] {
  return plan.stages.flatMap((s) => (s.t === 's' ? [s.step.name] : s.steps.map((x) => x.name)));
}
