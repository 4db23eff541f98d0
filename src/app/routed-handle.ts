/**
 * `app.handle(id)` in an app of several queues: the handle finds the queue that holds the task on
 * first use (the app's own when none does yet), then acts as the handle of that queue.
 */
import { QTaskHandle, ResultOptions, TaskHandle } from '../task/task-handle';
import type { TaskStatus } from '../task/task-record';
import type { AppQueue } from './app-queues';

/** A handle whose queue is found on first use. */
export class RoutedHandle<R = unknown> implements TaskHandle<R> {
  private target: Promise<TaskHandle<R>> | undefined;

  constructor(
    readonly id: string,
    /** The queue holding the task, connected. */
    private readonly find: () => Promise<AppQueue>,
  ) {}

  private handle(): Promise<TaskHandle<R>> {
    return (this.target ??= this.find().then((q) => new QTaskHandle<R>(this.id, q)));
  }

  async result(options?: ResultOptions): Promise<R> {
    return (await this.handle()).result(options);
  }

  stream<T = unknown>(): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        let inner: AsyncIterator<T> | undefined;
        const it = async () => (inner ??= (await this.handle()).stream<T>()[Symbol.asyncIterator]());
        return {
          next: async () => (await it()).next(),
          return: async () => (inner?.return ? inner.return() : { value: undefined, done: true }),
        };
      },
    };
  }

  async status(): Promise<TaskStatus | undefined> {
    return (await this.handle()).status();
  }

  async cancel(reason?: string): Promise<boolean> {
    return (await this.handle()).cancel(reason);
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }
}
