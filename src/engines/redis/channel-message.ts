/**
 * The messages of a queue's pub/sub channels, as the Lua scripts and the broker write them (one
 * letter, then JSON): `F<worker id> [records]` ends with their records, `f[ids or records]` ends
 * to read back, `i[id, index, item]` a streamed item, `p{event}` progress, `c[id, worker, reason]`
 * a cancel request, `w[worker, command]` an operator's command for a worker.
 */
import type { EngineEventMap, WorkerCommand } from '../../engine/broker';
import type { TaskRecord } from '../../task/task-record';
import { decodeOpt } from './record-codec';

/** One decoded channel message. */
export type ChannelMessage =
  | { kind: 'records'; records: TaskRecord[] }
  | { kind: 'ends'; entries: (TaskRecord | string)[] }
  | { kind: 'item'; id: string; index: number; item: unknown }
  /** Decoded on demand (only when someone listens). */
  | { kind: 'progress'; event: () => EngineEventMap['task:progress'] }
  | { kind: 'cancel'; id: string; workerId: string; reason: string | undefined }
  | { kind: 'worker'; workerId: string; command: WorkerCommand };

/**
 * A progress message, parsed only when someone listens. (Its own function: a closure made in
 * decodeChannelMessage would keep `msg` in a context object allocated for every message.)
 */
function progressMessage(msg: string): ChannelMessage {
  return { kind: 'progress', event: () => JSON.parse(msg.slice(1)) as EngineEventMap['task:progress'] };
}

/**
 * Decodes a message; undefined for an unknown kind, or for ends published by a worker for which
 * `skipFrom` is true (this process learnt of them already, so they are not even parsed). Throws on
 * a malformed message (the caller logs and skips it).
 */
export function decodeChannelMessage(msg: string, skipFrom: (workerId: string) => boolean): ChannelMessage | undefined {
  const kind = msg.charCodeAt(0);
  if (kind === 70 /* F */) {
    const sp = msg.indexOf(' ');
    if (skipFrom(msg.slice(1, sp))) return undefined;
    return { kind: 'records', records: JSON.parse(msg.slice(sp + 1)) as TaskRecord[] };
  }
  if (kind === 102 /* f */) return { kind: 'ends', entries: JSON.parse(msg.slice(1)) as (TaskRecord | string)[] };
  if (kind === 105 /* i */) {
    const [id, index, item] = JSON.parse(msg.slice(1)) as [string, number, unknown];
    return { kind: 'item', id, index, item };
  }
  if (kind === 112 /* p */) return progressMessage(msg);
  if (kind === 99 /* c */) {
    const [id, workerId, reason] = JSON.parse(msg.slice(1)) as [string, string, string];
    return { kind: 'cancel', id, workerId, reason: decodeOpt(reason) };
  }
  if (kind === 119 /* w */) {
    const [workerId, command] = JSON.parse(msg.slice(1)) as [string, WorkerCommand];
    return { kind: 'worker', workerId, command };
  }
  return undefined;
}
