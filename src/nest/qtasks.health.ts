/**
 * `QTasksHealthIndicator`: a health check of the Nest application's qtasks apps, in the result
 * shape of @nestjs/terminus (without depending on it): `{ [key]: { status: 'up' | 'down', … } }`.
 */
import { Injectable } from '@nestjs/common';
import { QTasks } from '../app/qtasks';
import { ErrorCodes, QTasksError } from '../errors';
import { QTasksQueues } from './queues';

/** What one check reports (terminus's `HealthIndicatorResult`). */
export type QTasksHealthResult = Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;

/**
 * Thrown by {@link QTasksHealthIndicator.isHealthy} when an app is down. It carries the result in
 * `causes` and `isHealthCheckError`, which is how @nestjs/terminus recognises a failed indicator.
 */
export class QTasksHealthError extends QTasksError {
  readonly isHealthCheckError = true;
  constructor(readonly causes: QTasksHealthResult) {
    super(ErrorCodes.BROKER_UNAVAILABLE, 'qtasks is down: its engine does not answer or the app is closed', { details: causes });
  }
}

/**
 * Checks that every app of the Nest application (the root one and registered queues) is open and
 * that its engine answers (`manager.counts()` within `timeoutMs`).
 * @example
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.qtasks.isHealthy('qtasks')]); }
 * ```
 */
@Injectable()
export class QTasksHealthIndicator {
  constructor(
    private readonly app: QTasks,
    private readonly queues: QTasksQueues,
  ) {}

  /** The result, `up` or `down`; never throws. */
  async check(key = 'qtasks', timeoutMs = 3_000): Promise<QTasksHealthResult> {
    const apps = [this.app, ...this.queues.all().map((q) => q.app)];
    const queues: Record<string, unknown> = {};
    let up = true;
    for (const app of apps) {
      const state = await probe(app, timeoutMs);
      if (state.status === 'down') up = false;
      queues[app.name] = state;
    }
    return { [key]: { status: up ? 'up' : 'down', queues } };
  }

  /** The result when every app is up; throws {@link QTasksHealthError} (with the result) otherwise. */
  async isHealthy(key = 'qtasks', timeoutMs = 3_000): Promise<QTasksHealthResult> {
    const result = await this.check(key, timeoutMs);
    if (result[key].status !== 'up') throw new QTasksHealthError(result);
    return result;
  }
}

async function probe(app: QTasks, timeoutMs: number): Promise<{ status: 'up' | 'down'; waiting?: number; running?: number; error?: string }> {
  if (app.isClosed) return { status: 'down', error: 'closed' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const counts = await Promise.race([
      app.manager.counts(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', waiting: counts.new + counts.retry + counts.delayed, running: counts.process };
  } catch (err) {
    return { status: 'down', error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
