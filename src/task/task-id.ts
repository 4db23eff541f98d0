/**
 * Task ids made by the core when the engine offers none (`Broker.newId`): a random prefix per
 * process, then a base-36 counter — unique across processes, short, and cheap to make.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = randomBytes(9).toString('base64url') + '-';
let seq = 0;

/** A new task id, unique across processes. */
export function newTaskId(): string {
  return PREFIX + (++seq).toString(36);
}
