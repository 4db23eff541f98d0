/**
 * The lease rounds of one Redis worker (every leaseMs/2, and when the connection comes back): it
 * renews its leases and heartbeat (see {@link renewLeases}), and moves back to the queue the tasks
 * of its held set that it never learnt of (a claim whose reply was lost with the connection, see
 * {@link reconcileHeld}). It tracks when each claim on the way was sent, so that the tasks of those
 * claims are left alone.
 */
import type { Redis } from 'ioredis';
import type { WorkerInfo } from '../../engine/broker';
import { reconcileHeld } from './held-reconcile';
import { renewLeases } from './lease-renewal';
import { isConnectionError } from './redis-link';
import type { PartitionScope } from './partition-scope';

/** What a lease round needs of its worker. */
export interface LeaseHost {
  readonly workerId: string;
  /** True once the worker is closed (no more rounds). */
  readonly closed: boolean;
  /** What the manager shows of the worker. */
  info(): WorkerInfo;
  /** The ids of every task it runs, has buffered or is recording the end of, and how many. */
  heldIds(): IterableIterator<string>;
  heldCount(): number;
  /** A cancel request for one of its tasks. */
  onCancel(id: string, reason: string | undefined): void;
  /** Tasks went back to the queue (it may claim again). */
  onMoved(): void;
  /** A reconcile is due: the worker sends it with {@link LeaseRounds.reconcile} when it can. */
  reconcileDue(): void;
}

/** Runs the lease rounds of one worker. */
export class LeaseRounds {
  private timer: NodeJS.Timeout | undefined;
  /** When each call on the way that may claim was sent (its claims' start time is not earlier). */
  private readonly sentAt: number[] = [];

  constructor(
    private readonly storage: PartitionScope,
    private readonly host: LeaseHost,
  ) {}

  /** Starts the timer; a first round runs once connected. */
  start(): void {
    const every = Math.max(20, Math.floor(this.storage.ctx.config.leaseMs / 2));
    this.timer = setInterval(() => this.renew(), every);
    void this.storage.link.whenReady().then(() => this.renew());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A call that may claim is sent at `at`. */
  claimSent(at: number): void {
    this.sentAt.push(at);
  }

  /** A call that could claim, sent at `at`, answered (or failed). */
  answered(at: number): void {
    const i = this.sentAt.indexOf(at);
    if (i >= 0) this.sentAt.splice(i, 1);
  }

  private renew(): void {
    if (this.host.closed || !this.storage.link.isReady) return;
    this.host.reconcileDue();
    renewLeases(this.storage, { ...this.host.info(), id: this.host.workerId }, (id, reason) => this.host.onCancel(id, reason));
  }

  /**
   * Moves back to the queue the tasks of the worker's held set that it does not know: their claim
   * ran in Redis but its reply was lost with the connection. Every id whose claim answered is held
   * by the worker; tasks of the claims still on the way started at or after the earliest of their
   * send times and are left alone, the claims sent later start after this call is sent, and the
   * tasks handed over to the worker wait in its inbox or came with a pop it has seen: `conn` is its
   * blocking connection while no pop waits there (the next pop runs after this call).
   */
  reconcile(conn: Redis): void {
    // without a connection it runs on 'ready'
    if (this.host.closed || !this.storage.link.isReady) return;
    const now = Date.now();
    let before = now;
    for (const t of this.sentAt) if (t < before) before = t;
    void reconcileHeld(this.storage, conn, this.host.workerId, this.host.heldIds(), this.host.heldCount(), now, before).then(
      (moved) => {
        if (moved.length > 0) this.host.onMoved();
      },
      (err: Error) => {
        if (!isConnectionError(err)) this.storage.ctx.logger.error('Reconciling held tasks failed', { error: err });
      },
    );
  }
}
