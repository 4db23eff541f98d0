/**
 * Whether other processes listen on a queue's event channel, as a worker's finish calls learn it.
 * An end published to nobody costs nothing, an end not published to a listener would be lost: so
 * a count of 0 is asked about on every call (cheaply, see the listener mark), and known listeners
 * only every {@link ASK_LISTENERS_EVERY} calls (PUBSUB NUMSUB costs a call to every node of a
 * cluster, which never asks).
 */

/** Finish calls between two questions of who listens on the event channel. */
const ASK_LISTENERS_EVERY = 64;

/** What one worker knows of the listeners of its queue's event channel. */
export class ChannelListeners {
  /** Other processes listening on the event channel, as of the last finish call that asked. */
  private remote = 1;
  /** Finish calls carrying ends left that publish without asking who listens (PUBSUB NUMSUB). */
  private unasked = 0;
  /**
   * The queue's listener mark (`ls`) when the last call that asked found no other process
   * listening: a process that subscribes later writes a new one before it relies on the channel, so
   * while it is unchanged the script skips PUBSUB NUMSUB.
   */
  private quietAt: string | undefined;

  /** `here`: whether this process listens on the channel itself. */
  constructor(private readonly here: { readonly hasEvents: boolean }) {}

  /** True while another process may listen: ends then carry their record's JSON. */
  get publish(): boolean {
    return this.remote > 0;
  }

  /**
   * The `listening` argument of a finish call carrying `ends` ends (see `FinishCaller`): 'c'
   * when it publishes without asking, which a call to a cluster always does.
   */
  listening(cluster: boolean, ends: number): string {
    if (cluster || (this.remote > 0 && this.unasked > 0)) {
      if (ends > 0) this.unasked--;
      return 'c';
    }
    let listening = this.here.hasEvents ? '1' : '';
    if (this.remote === 0 && this.quietAt !== undefined) listening += ':' + this.quietAt;
    return listening;
  }

  /** A call that asked found `remote` other listeners (under listener mark `ls`, or ''). */
  answered(remote: number, ls: string): void {
    this.remote = remote;
    this.unasked = remote > 0 ? ASK_LISTENERS_EVERY : 0;
    this.quietAt = remote === 0 && ls !== '' ? ls : undefined;
  }
}
