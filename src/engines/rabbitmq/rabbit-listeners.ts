/**
 * Who listens to the events of a RabbitMQ queue in other processes, so that task ends, progress
 * and stream items go on the bus only when another process waits for them (as the Redis engine
 * skips its publish when `PUBSUB NUMSUB` finds no other subscriber).
 *
 * A process that listens (a `result()` or `stream()` waiting, or an app listener of a task event)
 * says so on the bus at once and then every {@link LISTEN_BEAT_MS} while it does (the shared
 * {@link ListenBeacon}); a process publishes its events while it heard such a process lately, and
 * always during its first {@link JOIN_GRACE_MS} on a connection: joining, it asks who listens, and
 * every listening process answers at once (without the question it would hear them only at their
 * next beat). A waiter made just after its process started listening reads the storage often for a
 * moment (a worker may end the task before it heard of the listener); a missed event delays a
 * reader, never strands it.
 */
import { ListenBeacon } from '../shared/listen-beacon';

/** How often a listening process says so (ms). */
const LISTEN_BEAT_MS = 1_000;
/** A process heard listening this long ago still counts (ms). */
const LISTEN_LIVE_MS = LISTEN_BEAT_MS * 3.5;
/**
 * Events are published this long after (re)joining the bus, whoever listens: long enough for the
 * listening processes' answers to the join's question to arrive (ms).
 */
const JOIN_GRACE_MS = 500;
/** A process keeps saying it listens this long after its last waiter (ms). */
const LINGER_MS = 10_000;
/** How long after starting to listen a waiter reads the storage often (ms). */
const FRESH_MS = 1_500;
/** How often a fresh waiter reads the storage (ms). */
const FRESH_POLL_MS = 50;

/** The listening of this process and of the others, for one queue. */
export class RabbitListeners {
  private readonly beacon: ListenBeacon;
  private joinedAt = 0;

  constructor(
    /** This process on the bus. */
    private readonly origin: string,
    /** True while someone in this process listens to task events (app listeners). */
    appListens: () => boolean,
    /** True while a `result()` or `stream()` of this process waits. */
    waits: () => boolean,
    /** Sends "origin listens" to every process of the queue. */
    announce: (origin: string) => void,
    /** Asks every process of the queue that listens to say so now. */
    private readonly ask: () => void,
  ) {
    this.beacon = new ListenBeacon({
      periodMs: LISTEN_BEAT_MS,
      liveMs: LISTEN_LIVE_MS,
      lingerMs: LINGER_MS,
      wanted: () => waits() || appListens(),
      say: () => announce(origin),
    });
  }

  /**
   * The bus was (re)joined: publish whatever listens for a while, ask who listens, and say again
   * that this process listens.
   */
  joined(): void {
    this.joinedAt = Date.now();
    this.ask();
    this.beacon.again();
  }

  /** Another process joined and asks who listens: this one says so now when it does. */
  asked(): void {
    this.beacon.again();
  }

  /** True when another process may wait for this process's events. */
  othersListen(): boolean {
    const now = Date.now();
    return now - this.joinedAt < JOIN_GRACE_MS || this.beacon.othersListen(now);
  }

  /** Process `origin` said it listens. */
  heardFrom(origin: string): void {
    if (origin !== this.origin) this.beacon.heard();
  }

  /** Someone here started listening (a waiter, an app listener, an enqueue): says so now when it did not already. */
  listen(): void {
    this.beacon.listen();
  }

  /** How long a waiter made now waits before reading the storage again (ms). */
  pollMs(slow: number): number {
    const since = this.beacon.announcingSince;
    return since > 0 && Date.now() - since < FRESH_MS ? FRESH_POLL_MS : slow;
  }

  close(): void {
    this.beacon.close();
  }
}
