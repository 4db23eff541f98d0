/**
 * Server-sent events of the web view (`GET /api/events`): task events as they happen and a queue
 * snapshot (counts, workers, paused) every `refreshMs`. The app's events are listened to only while
 * a client is connected, so an idle web view costs the engine nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppEventMap } from '../app/app-events';
import type { QTasks } from '../app/qtasks';

/** The task events pushed to clients. */
const TASK_EVENTS = ['task:success', 'task:error', 'task:retry', 'task:cancel', 'task:progress'] as const;
type TaskEvent = (typeof TASK_EVENTS)[number];

/** What the queue snapshot holds. */
export type QueueSnapshot = (app: QTasks) => Promise<unknown>;

/** Fans events out to every connected client. */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly listeners = new Map<TaskEvent, (payload: AppEventMap[TaskEvent]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly app: QTasks,
    private readonly snapshot: QueueSnapshot,
    private readonly refreshMs: number,
  ) {}

  /** Number of connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Takes over a request as an event stream. */
  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    const drop = () => this.drop(res);
    req.on('close', drop);
    res.on('error', drop);
    if (this.clients.size === 1) this.attach();
    void this.sendSnapshot(res);
  }

  /** Ends every stream and stops listening. */
  close(): void {
    for (const res of [...this.clients]) {
      this.clients.delete(res);
      res.end();
    }
    this.detach();
  }

  private drop(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (this.clients.size === 0) this.detach();
  }

  private attach(): void {
    for (const event of TASK_EVENTS) {
      const listener = (payload: AppEventMap[TaskEvent]) => this.broadcast('task', summarize(event, payload));
      this.listeners.set(event, listener);
      this.app.on(event, listener);
    }
    this.timer = setInterval(() => void this.tick(), this.refreshMs);
    this.heartbeat = setInterval(() => this.comment('ping'), 15_000);
  }

  private detach(): void {
    for (const [event, listener] of this.listeners) this.app.off(event, listener);
    this.listeners.clear();
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = undefined;
    this.heartbeat = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.clients.size === 0) return;
    this.ticking = true;
    try {
      this.broadcast('queue', await this.snapshot(this.app));
    } catch (err) {
      this.broadcast('problem', { code: (err as { code?: string }).code, message: (err as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  private async sendSnapshot(res: ServerResponse): Promise<void> {
    try {
      const data = await this.snapshot(this.app);
      if (this.clients.has(res)) res.write(frame('queue', data));
    } catch (err) {
      if (this.clients.has(res)) res.write(frame('problem', { code: (err as { code?: string }).code, message: (err as Error).message }));
    }
  }

  private broadcast(event: string, data: unknown): void {
    const text = frame(event, data);
    for (const res of this.clients) res.write(text);
  }

  private comment(text: string): void {
    for (const res of this.clients) res.write(`: ${text}\n\n`);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The small form of a task event sent to the page (it fetches details when it needs them). */
function summarize(event: TaskEvent, payload: AppEventMap[TaskEvent]): Record<string, unknown> {
  if ('record' in payload) {
    const r = payload.record;
    return { type: event, id: r.id, name: r.name, status: r.status, attempt: r.attempt };
  }
  return { type: event, id: payload.id, name: payload.name, progress: payload.progress };
}
