/**
 * The task events an engine carries to other processes (ends and progress), and whether an app
 * listener of this process listens to any of them.
 */
import type { EngineContext, EngineEventMap } from '../../engine/broker';

/** The events of a task's end (a retry included): what end notifications carry. */
export const END_EVENTS: readonly (keyof EngineEventMap)[] = ['task:success', 'task:error', 'task:retry', 'task:cancel'];
const TASK_EVENTS: readonly (keyof EngineEventMap)[] = [...END_EVENTS, 'task:progress'];

/** True while an app listener of this process listens to a task event. */
export function listensToTaskEvents(ctx: EngineContext): boolean {
  return TASK_EVENTS.some((e) => ctx.listens(e));
}
