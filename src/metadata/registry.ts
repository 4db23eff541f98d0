/**
 * The list of decorated classes seen so far, read by `discover`. Decorators only append to it;
 * nothing is registered, built or connected at import time.
 */
import type { Constructor } from './types';

const seen = new Set<Constructor>();

/** Notes that `cls` carries qtasks decorators (called by decorators only). */
export function noteDecorated(cls: Constructor): void {
  seen.add(cls);
}

/** Every class that carries a qtasks decorator, in import order. */
export function decoratedClasses(): Constructor[] {
  return [...seen];
}
