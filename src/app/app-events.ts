/**
 * Typed events of an app. A listener that throws is logged; it never disturbs the engine.
 */
import { EventEmitter } from 'node:events';
import type { EngineEventMap } from '../engine/broker';
import type { Logger } from '../logger';
import { cloneJson } from '../task/json';
import { recordCopy } from '../task/record-copy';
import type { TaskRecord } from '../task/task-record';

/** Every event `app.on` accepts, with its payload. */
export interface AppEventMap extends EngineEventMap {
  /** A worker started taking tasks in this process. */
  'worker:start': { workerId: string };
  /** A worker of this process stopped. */
  'worker:stop': { workerId: string };
}

/** An event name of {@link AppEventMap}. */
export type AppEvent = keyof AppEventMap;

/** A listener of `event`. */
export type AppListener<K extends AppEvent> = (payload: AppEventMap[K]) => void;

/** The app's event hub. */
export class AppEvents {
  private readonly emitter = new EventEmitter();

  constructor(
    private readonly logger: Logger,
    private readonly onListen: () => void = () => undefined,
  ) {
    this.emitter.setMaxListeners(0);
  }

  on<K extends AppEvent>(event: K, listener: AppListener<K>): void {
    this.emitter.on(event, listener);
    this.onListen();
  }

  once<K extends AppEvent>(event: K, listener: AppListener<K>): void {
    this.emitter.once(event, listener);
    this.onListen();
  }

  off<K extends AppEvent>(event: K, listener: AppListener<K>): void {
    this.emitter.off(event, listener);
  }

  listens(event: AppEvent): boolean {
    return this.emitter.listenerCount(event) > 0;
  }

  /** Calls the listeners of `event` with one copy of its payload (what they change is theirs). */
  emit<K extends AppEvent>(event: K, payload: AppEventMap[K]): void {
    payload = copyPayload(payload);
    // raw listeners: a `once` wrapper removes itself when called (listeners() would unwrap it)
    for (const listener of this.emitter.rawListeners(event)) {
      try {
        (listener as AppListener<K>)(payload);
      } catch (err) {
        this.logger.error(`A listener of ${event} threw`, { error: err });
      }
    }
  }

  clear(): void {
    this.emitter.removeAllListeners();
  }
}

/** The payload with its record (or progress value) copied: an engine's own objects never reach a listener. */
function copyPayload<P>(payload: P): P {
  const p = payload as { record?: TaskRecord; progress?: unknown };
  if (p.record !== undefined) return { ...payload, record: recordCopy(p.record) };
  if (p.progress !== null && typeof p.progress === 'object') return { ...payload, progress: cloneJson(p.progress) };
  return payload;
}
