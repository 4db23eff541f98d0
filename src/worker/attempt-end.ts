/**
 * Recording the end of an attempt: its task-scoped resources closed, the end hooks run, a
 * workflow moved on, then the record written. When nothing needs awaiting (no resource, no hook,
 * no workflow) the record is written at once, as on the fast path.
 */
import type { Outcome } from '../engine/broker';
import type { HookEvent } from '../plugins/hook-runner';
import type { TaskRecord } from '../task/task-record';
import { EndEvent, EndPoint, hookPoint } from './end-event';
import type { RunContext } from './run-context';
import { closeAll, Closer } from './run-injection';
import type { Runtime } from './runtime';

/** True for the id of a task of a workflow (`wf:…`). */
export function isWorkflowId(id: string): boolean {
  return id.charCodeAt(0) === 119 /* w */ && id.startsWith('wf:');
}

/** Where the end is recorded: the app and the worker's tracking of final writes. */
export interface EndHost {
  readonly runtime: Runtime;
  /** Tracks the final write (close waits for it). */
  track(p: Promise<unknown>): void;
  /**
   * Optional: writes the record through `Broker.finishThen`, tracked as {@link track} does (no
   * promise per end); called only when the broker offers it.
   */
  finishTracked?(rec: TaskRecord, outcome: Outcome): void;
}

/** The ended attempt, as its recording sees it. */
export interface EndedRun {
  readonly rec: TaskRecord;
  /** The run's context if one was made (what end hooks receive as `ctx`). */
  readonly madeContext: RunContext | undefined;
  /** The run's context, made if needed (its logger reports failures here). */
  context(): RunContext;
}

/**
 * Records `outcome`; `closers` are the run's open task-scoped resources (closed first); `at` is
 * when the attempt ended (used when the end is written at once).
 */
export function recordEnd(host: EndHost, run: EndedRun, outcome: Outcome, closers: Closer[] | undefined, at?: number): void {
  const { runtime } = host;
  const { rec } = run;
  const point = hookPoint(outcome);
  if (runtime.workflowAdvance !== undefined && isWorkflowId(rec.id)) {
    // a workflow moves on before this end is recorded: a worker killed in between runs this step
    // again, and starting the next stage twice enqueues nothing new (its ids are fixed)
    host.track(finalize(host, run, outcome, point, closers));
    return;
  }
  if (closers === undefined && (point === undefined || !runtime.hooks.has(point))) {
    record(host, rec, outcome, at);
    return;
  }
  if (closers === undefined) {
    // hooks only: when they are all synchronous, finish at once as on the plain path
    const ran = runtime.hooks.run(point!, endEvent(runtime, run, outcome));
    if (ran instanceof Promise) {
      host.track(finishAfter(ran, runtime, rec, outcome));
      return;
    }
    record(host, rec, outcome);
    return;
  }
  host.track(finalize(host, run, outcome, point, closers));
}

/**
 * Writes the end once `ran` settled. (Its own function: a closure made in recordEnd would keep
 * recordEnd's variables in a context object allocated at every end.)
 */
function finishAfter(ran: Promise<unknown>, runtime: Runtime, rec: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
  return ran.then(() => runtime.broker.finish(rec, outcome));
}

/** Hands the record back with its outcome: at once when the broker can, else tracked until written. */
function record(host: EndHost, rec: TaskRecord, outcome: Outcome, at?: number): void {
  const runtime = host.runtime;
  const broker = runtime.broker;
  if (broker.immediate === undefined) {
    if (broker.finishThen !== undefined && host.finishTracked !== undefined) host.finishTracked(rec, outcome);
    else host.track(broker.finish(rec, outcome));
    return;
  }
  broker.immediate.finishNow(rec, outcome, at);
}

/** The event of an end point. */
function endEvent(runtime: Runtime, run: EndedRun, outcome: Outcome): HookEvent {
  return new EndEvent(runtime.app ?? runtime, run.rec, outcome, run.madeContext) as unknown as HookEvent;
}

async function finalize(host: EndHost, run: EndedRun, outcome: Outcome, point: EndPoint | undefined, closers: Closer[] | undefined): Promise<void> {
  const { runtime } = host;
  const { rec } = run;
  if (closers) await closeAll(closers, () => run.context().logger);
  if (point !== undefined && runtime.hooks.has(point)) await runtime.hooks.run(point, endEvent(runtime, run, outcome));
  if (runtime.workflowAdvance !== undefined && isWorkflowId(rec.id)) {
    try {
      await runtime.workflowAdvance(rec, outcome);
    } catch (err) {
      run.context().logger.error('Starting the next stage of a workflow failed', { error: err, id: rec.id, code: (err as { code?: string }).code });
    }
  }
  await runtime.broker.finish(rec, outcome);
}
