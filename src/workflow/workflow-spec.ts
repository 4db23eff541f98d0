/**
 * Workflows described as plain data: `step`, `chain`, `group` and `flow` build a spec that
 * `app.run(spec)` starts. Nothing runs when a spec is built.
 */
import type { TaskErrorInfo } from '../errors';
import type { EnqueueOptions } from '../task/task-record';

/** One task of a workflow: its name, its own arguments and enqueue options. */
export interface StepSpec {
  readonly kind: 'step';
  readonly name: string;
  readonly args: readonly unknown[];
  readonly opts?: WorkflowStepOptions;
}

/** Steps run in parallel; the group's result is the list of their results, in order. */
export interface GroupSpec {
  readonly kind: 'group';
  readonly steps: readonly StepSpec[];
}

/** Stages run one after another; each receives the previous stage's result as its last argument. */
export interface ChainSpec {
  readonly kind: 'chain';
  readonly stages: readonly (StepSpec | GroupSpec)[];
}

/** What a flow does when a child fails: see {@link flow}. */
export type ChildErrorPolicy = 'fail' | 'ignore' | 'continue';

/** True for a {@link ChildErrorPolicy}. */
export function isChildErrorPolicy(policy: unknown): policy is ChildErrorPolicy {
  return policy === 'fail' || policy === 'ignore' || policy === 'continue';
}

/** What a child that ended `error` or `cancel` gives in its parent's results under `policy` ('ignore' or 'continue'). */
export function failedChildResult(policy: ChildErrorPolicy, error: TaskErrorInfo): { error: TaskErrorInfo } | undefined {
  return policy === 'ignore' ? undefined : { error };
}

/** A parent task that runs after all of its children ended, reading `ctx.childResults()`. */
export interface FlowSpec {
  readonly kind: 'flow';
  readonly name: string;
  readonly args: readonly unknown[];
  readonly opts?: WorkflowStepOptions;
  readonly children: readonly { name: string; args?: unknown[]; opts?: WorkflowStepOptions }[];
  readonly onChildError: ChildErrorPolicy;
}

/** Anything `app.run()` takes. */
export type Workflow = StepSpec | GroupSpec | ChainSpec | FlowSpec;

/** Enqueue options of a step (its id is chosen by the workflow). */
export type WorkflowStepOptions = Omit<EnqueueOptions, 'id' | 'transaction'>;

/**
 * A task of a workflow.
 * @example
 * ```ts
 * await app.run(chain(step('fetch', [url]), step('parse'), step('store')));
 * ```
 */
export function step(name: string, args: unknown[] = [], opts?: WorkflowStepOptions): StepSpec {
  return { kind: 'step', name, args, ...(opts ? { opts } : {}) };
}

/** Stages run in order, each receiving the previous result appended to its arguments. */
export function chain(...stages: (StepSpec | GroupSpec | ChainSpec)[]): ChainSpec {
  const flat: (StepSpec | GroupSpec)[] = [];
  for (const s of stages) {
    if (s !== null && typeof s === 'object' && s.kind === 'chain') flat.push(...s.stages);
    else flat.push(s as StepSpec | GroupSpec);
  }
  return { kind: 'chain', stages: flat };
}

/** Steps run in parallel; `chain(group([...]), step('sum'))` is a chord. */
export function group(steps: StepSpec[]): GroupSpec {
  return { kind: 'group', steps: Array.isArray(steps) ? [...steps] : (steps as unknown as StepSpec[]) };
}

/**
 * A parent and its children: the children run first, the parent after all of them ended and
 * reads their results with `ctx.childResults()` (in children order). `onChildError`: `'fail'`
 * (default: the parent never runs, it ends `error` with `QTASKS_ERR_CHILD_FAILED`, children not
 * started yet are cancelled), `'ignore'` (a failed child gives `undefined`), `'continue'` (a failed
 * child gives `{ error }`).
 */
export function flow(spec: {
  name: string;
  args?: unknown[];
  opts?: WorkflowStepOptions;
  children: { name: string; args?: unknown[]; opts?: WorkflowStepOptions }[];
  onChildError?: ChildErrorPolicy;
}): FlowSpec {
  return {
    kind: 'flow',
    name: spec.name,
    args: spec.args ?? [],
    ...(spec.opts ? { opts: spec.opts } : {}),
    children: spec.children,
    onChildError: spec.onChildError ?? 'fail',
  };
}
