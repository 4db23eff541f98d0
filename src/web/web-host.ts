/**
 * The app as the web view sees it: a narrow host interface, so that the web view never imports
 * the app's module (the app loads the web view on first use; no import cycle between them).
 */
import type { AppEvent, AppListener } from '../app/app-events';
import type { TaskManager } from '../app/task-manager';
import type { Storage } from '../engine/storage';
import type { Logger } from '../logger';

/** What the web view uses of its app (a `QTasks` app is one). */
export interface WebHost {
  /** Queue name. */
  readonly name: string;
  readonly manager: TaskManager;
  /** Stream items of a task (the task page). */
  readonly storage: Pick<Storage, 'items'>;
  readonly logger: Logger;
  /** True once the app was closed. */
  readonly isClosed: boolean;
  on<K extends AppEvent>(event: K, listener: AppListener<K>): unknown;
  off<K extends AppEvent>(event: K, listener: AppListener<K>): unknown;
}
