/**
 * One call of the finish script: the ends of attempts batched in one tick and how many tasks to
 * claim next. Builds its keys and arguments, sends it on the connection the worker chose, and
 * applies its reply to the ends (each resolved with the record as stored, and told to this
 * process's waiters and listeners).
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { TaskRecord } from '../../task/task-record';
import { badRecordError } from '../bad-record';
import type { PartitionScope } from './partition-scope';
import type { RedisLink } from './redis-link';

/** An end waiting to be recorded. */
export interface End {
  rec: TaskRecord;
  args: string[];
  /** The record as stored once recorded; undefined for a handback. */
  stored: TaskRecord | undefined;
  resolve: (r: TaskRecord | undefined) => void;
  reject: (e: Error) => void;
  /** Finish calls carrying it that failed for a reason other than a lost connection. */
  failures?: number;
}

/** The reply of the finish script. */
export interface FinishReply {
  /** '1' per end recorded, '0' when not held any more, '2' when it ended QTASKS_ERR_BAD_RECORD instead. */
  flags: string;
  /** Claimed tasks (flat: id, data, attempt per task). */
  claimed: string[];
  /** The next delayed runAt, or ''. */
  next: string;
  /** Other processes listening (-1: not asked). */
  remote: number;
  /** The queue's listener mark (`ls` of its meta hash) as read with `remote`, or '' when not read. */
  ls: string;
}

/** The reply of a finish call, named (the script answers 0 for no claimed task). */
export function finishReply(res: unknown): FinishReply {
  const [flags, claimed, next, remote, ls] = res as [string, string[] | 0, string, number, string];
  return { flags, claimed: claimed === 0 ? [] : claimed, next, remote, ls };
}

/** What the call needs to know of its worker. */
export interface FinishCaller {
  workerId: string;
  /**
   * '1' when this process listens on the event channel itself, 'c' to publish without asking,
   * else ''; '1' and '' may end ':<ls>' when no other process listened under that listener mark.
   */
  listening: string;
  /**
   * False when the worker knows it has no idle entry: a call that claims nothing then does not
   * delete it.
   */
  idleEntry: boolean;
}

/** How long a worker's idle entry lasts: its blocking pop (5 s) and a call to renew it. */
const IDLE_ENTRY_MS = 6_000;

/** The keys and arguments of one finish call (`trim`: expired ids to drop at most). */
export function finishCall(s: PartitionScope, who: FinishCaller, batch: End[], want: number, trim: number, now: number): { keys: string[]; args: (string | number)[] } {
  const k = s.keys;
  const cfg = s.ctx.config;
  // the idle entry's tail is formatted here: a number formatted in Lua costs more than the call's writes
  const idle = want > 0 || who.idleEntry ? now + IDLE_ENTRY_MS + ':' + cfg.leaseMs : '';
  // ends that all have one head and no record to publish go 2 per end (id, data) after `<n>:<head>`,
  // else 4 per end (see endOf): Redis parses, copies and frees every argument
  const head = batch.length > 1 ? batch[0].args[1] : undefined;
  let uniform = head !== undefined;
  for (let i = 0; uniform && i < batch.length; i++) uniform = batch[i].args[1] === head && batch[i].args[3] === '';
  const args: (string | number)[] = [k.channel, now, who.workerId, cfg.resultTtlMs, now + cfg.leaseMs, want, who.listening, trim, uniform ? batch.length + ':' + head : batch.length, idle];
  if (uniform) for (const e of batch) args.push(e.args[0], e.args[2]);
  else for (const e of batch) args.push(e.args[0], e.args[1], e.args[2], e.args[3]);
  // the script names the queue's keys from its key base (lua/finish-1.lua)
  return { keys: [k.base], args };
}

/**
 * Sends a finish call: on `blocker` (the worker's blocking connection) with the worker's next pop
 * right behind it in the same write when given, else on `pipe` (a pipeline the call joins) when
 * given, else on the command connection.
 */
export function sendFinish(
  link: RedisLink,
  keys: string[],
  args: (string | number)[],
  blocker: Redis | undefined,
  pipe: ChainableCommander | undefined,
  wakeups: { block(pipe?: ChainableCommander): void },
): Promise<unknown> {
  // the end's announcement leaves Redis before the worker's reply (see RedisLink.scriptThen)
  if (blocker !== undefined && !link.isCluster) return link.scriptThen(blocker, 'finish', keys, args, () => wakeups.block());
  if (blocker !== undefined) {
    // a cluster client: the pop goes to the queue's node queued on the same pipeline
    const popPipe = link.pipelineOn(blocker, 'finish');
    const call = link.scriptOn(popPipe, 'finish')(keys, args);
    wakeups.block(popPipe);
    popPipe.exec().catch(() => undefined);
    return call;
  }
  return (pipe ? link.scriptOn(pipe, 'finish') : link.script('finish'))(keys, args);
}

/**
 * Settles each end of `batch` from the reply's flags: `release` forgets the task, `deliver` tells
 * this process of a recorded end (it learns its own ends here, not from the channel).
 */
export function applyFinish(batch: End[], flags: string, release: (id: string) => void, deliver: (rec: TaskRecord) => void): void {
  for (let i = 0; i < batch.length; i++) {
    const e = batch[i];
    const flag = flags.charCodeAt(i);
    release(e.rec.id);
    if (flag === 50 /* 2 */) {
      // its stored priority was not a number: it ended QTASKS_ERR_BAD_RECORD instead
      const rec = e.rec;
      rec.status = 'error';
      rec.error = badRecordError(rec.id, 'its priority is not a number');
      rec.finishedAt = rec.updatedAt;
      delete rec.runAt;
      deliver(rec);
      e.resolve(rec);
    } else if (flag === 49 /* 1 */) {
      if (e.stored !== undefined) deliver(e.stored);
      e.resolve(e.stored ?? e.rec);
    } else {
      e.resolve(undefined);
    }
  }
}
