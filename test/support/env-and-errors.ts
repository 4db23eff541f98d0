/**
 * Small helpers of the option and config tests: environment variables cleared around each test,
 * and the error a construction throws.
 */
import { QTasks, QTasksError, QTasksOptions } from 'qtasks';

/** Clears `keys` from `process.env` before each test of the enclosing `describe`, and restores them after. */
export function withoutEnv(keys: readonly string[]): void {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const k of keys) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });
  afterEach(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
}

/** The error `new QTasks(options)` throws; fails the test when it throws none. */
export function constructionError(options: unknown): QTasksError {
  try {
    void new QTasks(options as QTasksOptions);
  } catch (err) {
    return err as QTasksError;
  }
  throw new Error('new QTasks() accepted ' + JSON.stringify(options));
}
