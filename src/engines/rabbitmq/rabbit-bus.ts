/**
 * The bus of a RabbitMQ queue: a fanout exchange that every process of the queue binds, carrying
 * events (task ends, progress, stream items) and control messages (cancels, pause/resume, worker
 * commands). Events sent in one turn of the event loop leave as one AMQP message, in order,
 * tagged with the sending process: that process handled them when it sent them, and skips them
 * when they come back.
 */
import { randomBytes } from 'node:crypto';
import type { WorkerCommand } from '../../engine/broker';
import type { TaskRecord } from '../../task/task-record';
import type { AmqpLink } from './amqp-link';
import type { EndEvent } from './rabbit-outcome';

/** Messages of the bus (events to every process, commands to workers). */
export type BusMessage =
  | { t: 'end'; ev: EndEvent; rec: TaskRecord }
  | { t: 'progress'; id: string; name: string; progress: unknown }
  | { t: 'item'; id: string; index: number; item: unknown }
  /** `w`, `s`: the worker and start time of the claim the canceller saw (a claim whose reply is still on its way there). */
  | { t: 'cancel'; id: string; reason?: string; w?: string; s?: number }
  | { t: 'pause' | 'resume'; nonce: string }
  /** Process `o` listens to the queue's events (said at once, then every second while it does). */
  | { t: 'listen'; o: string }
  /** A process joined the bus: every process that listens says so now. */
  | { t: 'ask' }
  | { t: 'worker'; workerId: string; command: WorkerCommand };

/** Several bus messages in one AMQP message, from process `o` (absent: every process handles them). */
interface BusBatch {
  t: 'batch';
  o?: string;
  list: BusMessage[];
}

/** Sends events to every process of the queue, batched per turn of the event loop. */
export class RabbitBus {
  /** This process on the bus. */
  readonly origin = randomBytes(8).toString('hex');
  /** The messages of this turn, encoded when sent (a receiver here may change what it was handed). */
  private buffer: string[] = [];

  constructor(
    private readonly link: AmqpLink,
    private readonly exchange: string,
  ) {}

  /**
   * Sends `msg` at the end of this turn to the other processes (the caller handles it here); lost
   * while disconnected (readers poll the storage too).
   */
  send(msg: BusMessage): void {
    this.buffer.push(JSON.stringify(msg));
    if (this.buffer.length === 1) setImmediate(() => this.flush());
  }

  /** Sends the messages of this turn now (before a task message that must come after them). */
  flush(): void {
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const ch = this.link.channelsNow();
    if (!ch) return;
    try {
      // the origin rides in `appId` too: a process skips its own batches without decoding them
      ch.pub.publish(this.exchange, '', Buffer.from(`{"t":"batch","o":${JSON.stringify(this.origin)},"list":[${batch.join(',')}]}`), { appId: this.origin });
    } catch {
      // the channel closed: readers find the end in the storage
    }
  }
}

/** The body of a bus message for every process (the sender included). */
export function encodeBus(msg: BusMessage): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/** The bus messages of an AMQP message body for process `self`; none when it cannot be decoded or came from `self`. */
export function decodeBus(body: Buffer, self: string): BusMessage[] {
  let msg: BusMessage | BusBatch;
  try {
    msg = JSON.parse(body.toString('utf8')) as BusMessage | BusBatch;
  } catch {
    return [];
  }
  if (msg === null || typeof msg !== 'object') return [];
  if (msg.t !== 'batch') return [msg];
  if (msg.o === self) return [];
  return Array.isArray(msg.list) ? msg.list.filter((m) => m !== null && typeof m === 'object') : [];
}
