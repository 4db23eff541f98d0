/**
 * Progress lines on stderr for long CLI operations (bulk add, purge): `label 1500/4000 (37%)`,
 * at most one line every `everyMs` plus the last one, so logs stay short and scripts read stdout.
 */

/** Reports how far an operation got. */
export class Progress {
  private lastAt = 0;
  private lastDone = -1;

  constructor(
    private readonly write: (line: string) => void,
    private readonly label: string,
    private readonly total: number,
    private readonly everyMs = 250,
  ) {}

  /** Notes that `done` of `total` are done; prints when enough time passed. */
  update(done: number): void {
    const now = Date.now();
    if (now - this.lastAt < this.everyMs || done === this.lastDone) return;
    this.print(done, now);
  }

  /** Prints the final line. */
  end(done: number): void {
    if (done !== this.lastDone) this.print(done, Date.now());
  }

  private print(done: number, now: number): void {
    this.lastAt = now;
    this.lastDone = done;
    const pct = this.total > 0 ? Math.floor((done / this.total) * 100) : 100;
    this.write(`qtasks: ${this.label} ${done}/${this.total} (${pct}%)`);
  }
}
