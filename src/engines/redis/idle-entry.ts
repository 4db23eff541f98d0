/**
 * Whether a worker may have an entry among its queue's idle workers. Its finish calls that claim
 * write one when the queue runs dry; those that claim nothing delete it, which they skip while the
 * worker knows it has none (a worker that claims in its own enqueues, as one app that enqueues and
 * works does, never has one). Calls travel on two connections (the blocking one carries a call with
 * the pop behind it), so a call that claims nothing proves the entry gone only when no claiming
 * call was in flight when it was sent and none was sent before its answer.
 */
export class IdleEntry {
  private maybe = true;
  /** Claiming calls sent (and failed calls), so far. */
  private claims = 0;
  /** Claiming calls not answered yet. */
  private claimsOut = 0;

  /** True while the worker may have an entry: a call that claims nothing must delete it. */
  get mayExist(): boolean {
    return this.maybe;
  }

  /** A finish call claiming `want` is sent; returns what {@link answered} takes. */
  sent(want: number): number {
    if (want > 0) {
      this.maybe = true;
      this.claims++;
      this.claimsOut++;
      return -1;
    }
    return this.claimsOut === 0 ? this.claims : -1;
  }

  /** The call sent with `want` and `token` (from {@link sent}) was answered. */
  answered(want: number, token: number): void {
    if (want > 0) this.claimsOut--;
    else if (token === this.claims) this.maybe = false;
  }

  /** The call failed: it may still have run, or run later, so nothing is known any more. */
  failed(want: number): void {
    if (want > 0) this.claimsOut--;
    this.maybe = true;
    this.claims++;
  }
}
