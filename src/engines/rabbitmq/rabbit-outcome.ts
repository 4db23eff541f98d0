/**
 * Pieces of the RabbitMQ broker kept apart: the record change that ends an attempt (by outcome),
 * the message of a stored record, and the durable topology declared on each connection.
 */
import type { Outcome } from '../../engine/broker';
import type { RecordPatch } from '../../engine/storage';
import type { TaskErrorInfo } from '../../errors';
import { AttemptInfo, retriedAttempt } from '../../task/task-history';
import type { TaskRecord } from '../../task/task-record';
import type { LinkChannels } from './amqp-link';
import type { TaskMessage } from './rabbit-publisher';
import type { RabbitNames } from './rabbitmq-options';

/** The events an attempt's end fires. */
export type EndEvent = 'task:success' | 'task:error' | 'task:cancel' | 'task:retry';

/** The change of a running task's record for `outcome`, and the event it fires (none for a hand-back). */
export function outcomePatch(record: TaskRecord, outcome: Outcome, now: number, maxHistory: number): { patch: RecordPatch; ev?: EndEvent } {
  switch (outcome.status) {
    case 'success':
      return { patch: { status: 'success', returning: outcome.returning, finishedAt: now }, ev: 'task:success' };
    case 'error':
      return { patch: { status: 'error', error: outcome.error, finishedAt: now }, ev: 'task:error' };
    case 'cancel':
      return { patch: { status: 'cancel', cancelReason: outcome.reason, finishedAt: now }, ev: 'task:cancel' };
    case 'retry':
      return {
        patch: { status: 'retry', error: outcome.error, runAt: outcome.delayMs > 0 ? now + outcome.delayMs : undefined, attempts: history(record, outcome.error, now, maxHistory) },
        ev: 'task:retry',
      };
    case 'handback':
      return { patch: { status: 'new', attempt: Math.max(0, record.attempt - 1), startedAt: undefined, workerId: undefined } };
  }
}

/** The stored history of earlier attempts plus the one that ends in a retry now (the newest `max`). */
function history(record: TaskRecord, error: TaskErrorInfo, now: number, max: number): AttemptInfo[] | undefined {
  if (!(max > 0)) return undefined;
  const earlier = (record.attempts ?? []).filter((a) => a.attempt < record.attempt && a.status !== 'stalled');
  return [...earlier, retriedAttempt(record, error, now)].slice(-max);
}

/** The message of a stored record. */
export function message(r: TaskRecord): TaskMessage {
  return { id: r.id, priority: r.priority, attempt: r.attempt, runAt: r.runAt };
}

/**
 * Arguments of every classic queue: version 2 of the classic queue's storage (RabbitMQ 3.10+; an
 * older server ignores it), which spends about half the CPU of version 1 per persistent message.
 */
export const CLASSIC: Readonly<Record<string, unknown>> = { 'x-queue-version': 2 };

/** Declares the dead-letter exchange and queue, the work queue (classic with priorities, or quorum) and the bus. */
export async function declareTopology(ch: LinkChannels, n: RabbitNames, quorum: boolean, maxPriority: number): Promise<void> {
  await ch.pub.assertExchange(n.dlx, 'fanout', { durable: true });
  await ch.pub.assertQueue(n.dead, { durable: true, arguments: quorum ? { 'x-queue-type': 'quorum' } : CLASSIC });
  await ch.pub.bindQueue(n.dead, n.dlx, '');
  const args: Record<string, unknown> = { 'x-dead-letter-exchange': n.dlx };
  if (quorum) args['x-queue-type'] = 'quorum';
  else Object.assign(args, CLASSIC, { 'x-max-priority': maxPriority });
  await ch.pub.assertQueue(n.queue, { durable: true, arguments: args });
  await ch.pub.assertExchange(n.bus, 'fanout', { durable: true });
}
