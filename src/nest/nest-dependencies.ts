/**
 * Dependencies of tasks that Nest did not build (classes found by `discover`, class-form tasks
 * built per run, method parameters): what qtasks cannot resolve itself is asked of Nest's
 * ModuleRef at module init and handed to the app's container, and what Nest cannot resolve either
 * fails the bootstrap with `QTASKS_ERR_UNRESOLVED_PARAM` naming the task and the dependency,
 * instead of failing its first run.
 */
import type { ModuleRef } from '@nestjs/core';
import type { InjectionToken } from 'tsyringe';
import type { QTasks } from '../app/qtasks';
import { where } from '../discovery/task-definition';
import { ErrorCodes, QTasksError } from '../errors';
import { Metadata } from '../metadata';
import type { Constructor } from '../metadata';

/** A token qtasks resolves without Nest (its own values, state, depends, container registrations). */
function qtasksKnows(app: QTasks, token: unknown): boolean {
  if (typeof token === 'function') {
    const cls = token as Constructor;
    if (Metadata.state(cls) || Metadata.depends(cls)) return true;
  }
  if (token === Object || token === undefined || token === null) return true;
  return app.container.isRegistered(token as InjectionToken<unknown>, true);
}

function label(token: unknown): string {
  return typeof token === 'function' ? (token as { name: string }).name || 'an anonymous class' : String(token);
}

/**
 * Registers in `app.container` every dependency of its tasks that only Nest can give; throws
 * `QTASKS_ERR_UNRESOLVED_PARAM` for those Nest cannot give either. `nestBuilt` are the classes
 * whose instance Nest made (their constructors were resolved by Nest already).
 */
export function resolveTaskDependencies(app: QTasks, moduleRef: ModuleRef, nestBuilt: ReadonlySet<Constructor>): void {
  app.taskNames(); // runs discovery, so that discovered classes are checked too
  const missing: string[] = [];
  for (const def of app.registry.definitions()) {
    const needs: unknown[] = [];
    if (!nestBuilt.has(def.cls)) for (const p of def.ctor) if (p.kind === 'value') needs.push(p.token);
    for (const p of def.params) {
      if (p.kind === 'value') needs.push(p.token);
      else if (p.kind === 'unresolved') needs.push(p.type);
    }
    for (const token of needs) {
      if (qtasksKnows(app, token)) continue;
      let value: unknown;
      try {
        value = moduleRef.get(token as string, { strict: false });
      } catch {
        missing.push(`task "${def.name}" (${where(def)}) needs ${label(token)}`);
        continue;
      }
      app.container.register(token as InjectionToken<unknown>, { useValue: value });
    }
  }
  if (missing.length > 0) {
    throw new QTasksError(
      ErrorCodes.UNRESOLVED_PARAM,
      `${missing.join('; ')}, which neither Nest nor qtasks can provide: add it to the providers of a module this one imports (or export it from its module), or make the task class a provider`,
      { details: { missing } },
    );
  }
}
