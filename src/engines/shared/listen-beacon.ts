/**
 * "Someone in this process listens" said over a channel that cannot count its listeners (a
 * PostgreSQL NOTIFY channel, a RabbitMQ fanout exchange), so that workers put whole records and
 * events on it only while another process wants them. The engine gives the transport (`say`: one
 * message to every process of the queue; a message heard from another process calls `heard`); this
 * module keeps the timing, the same in each engine that uses it:
 *
 * - a process that starts listening says so at once, then every `periodMs` while it still
 *   listens and for `lingerMs` after;
 * - another process counts as listening for `liveMs` after it was last heard.
 *
 * A missed or late announcement delays a reader (it finds the end on its periodic re-read),
 * never strands it. The Redis engine does not use this: its channel counts its subscribers
 * (`PUBSUB NUMSUB` in the finish script), and its listener mark only says when to ask again.
 */

/** The timing and transport of a {@link ListenBeacon}. */
export interface ListenBeaconOptions {
  /** How often a listening process says so (ms). */
  periodMs: number;
  /** How long a process heard listening still counts (ms). */
  liveMs: number;
  /** How long a process keeps saying it listens after it last did (ms); 0: until the first beat it does not. */
  lingerMs: number;
  /** True while someone in this process listens. */
  wanted: () => boolean;
  /** Tells every other process of the queue that this one listens. */
  say: () => void;
}

/** The listening of this process (said on a period) and of the others (as heard lately). */
export class ListenBeacon {
  /** When another process last said it listens. */
  private heardAt = -Infinity;
  /** When this process started saying it listens (0: it does not). */
  private since = 0;
  private lastWanted = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: ListenBeaconOptions) {}

  /** Someone here started listening: says so now unless already saying so, and keeps saying it. */
  listen(): void {
    if (this.closed) return;
    this.lastWanted = Date.now();
    if (this.since > 0) return;
    this.since = this.lastWanted;
    this.o.say();
    this.timer = setInterval(() => this.beat(), this.o.periodMs);
    this.timer.unref();
  }

  /** Says it again now when this process listens (a process asked, or the channel was rejoined). */
  again(): void {
    if (this.since === 0 || this.closed) return;
    if (this.stillWanted(Date.now())) this.o.say();
  }

  /** When this process started saying it listens (0: it does not). */
  get announcingSince(): number {
    return this.since;
  }

  /** Another process said it listens. */
  heard(): void {
    this.heardAt = Date.now();
  }

  /** True while another process was heard listening within `liveMs`. */
  othersListen(now = Date.now()): boolean {
    return now - this.heardAt < this.o.liveMs;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True while someone here listens, or did within `lingerMs` (noting it when someone does). */
  private stillWanted(now: number): boolean {
    if (this.o.wanted()) this.lastWanted = now;
    return now - this.lastWanted <= this.o.lingerMs;
  }

  private beat(): void {
    if (!this.stillWanted(Date.now())) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.since = 0;
      return;
    }
    this.o.say();
  }
}
