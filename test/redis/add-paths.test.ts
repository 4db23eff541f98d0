/**
 * The add script's paths for one new task due now leave the same state: the same case runs once as
 * the common call (one task, all due now, one priority: the fast paths) and once as the general
 * form (a priority and runAt per task), on two queues set up alike, and every key of both queues
 * and the replies are compared. The cases cover a hand-over to an idle worker and every reason not
 * to hand over. Bulk adds are compared the same way (the common form takes a loop of its own), and
 * the seq each new task gets is checked as written in its data and scored in `all`.
 */
import { join } from 'node:path';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { redisScratch, sameEffects } from './redis-support';

const LUA = loadScripts(join(__dirname, '../../src/engines/redis/lua')).find((s) => s.name === 'add')!.lua;
const NOW = 1_700_000_000_000;

interface Case {
  name: string;
  /** the idle workers before the call (worker id -> entry) */
  idle?: Record<string, string>;
  pri?: string;
  paused?: boolean;
  waiting?: boolean;
  exists?: boolean;
  /** the caller's own worker claims in the call (ARGV[1] '1') instead */
  claim?: boolean;
}

const live = (want: number, lease = 30_000): string => `${want}:${NOW + 5000}:${lease}`;

const CASES: Case[] = [
  { name: 'no idle worker' },
  { name: 'an idle worker wanting tasks', idle: { w1: live(2) } },
  { name: 'an idle worker wanting one task, with its own lease length', idle: { w1: live(1, 12_345) } },
  { name: 'a task of another priority', idle: { w1: live(1) }, pri: '3' },
  { name: 'an idle worker that got tasks already, then one that wants', idle: { w0: live(0), w1: live(1) } },
  { name: 'expired and bad idle entries before one that wants', idle: { w0: `1:${NOW - 1}:30000`, wb: 'bad', w1: live(1) } },
  { name: 'only expired idle entries', idle: { w0: `1:${NOW - 1}:30000` } },
  { name: 'idle workers that got tasks already, an expired entry between them', idle: { w0: live(0), wx: `1:${NOW - 1}:30000`, w2: live(0) } },
  { name: 'a paused queue', idle: { w1: live(1) }, paused: true },
  { name: 'a paused queue, an expired idle entry', idle: { w0: `1:${NOW - 1}:30000`, w1: live(1) }, paused: true },
  { name: 'an expired idle entry, an id that exists already', idle: { w0: `1:${NOW - 1}:30000`, w1: live(1) }, exists: true },
  { name: 'an expired idle entry, tasks waiting', idle: { w0: `1:${NOW - 1}:30000` }, waiting: true },
  { name: 'tasks waiting already', idle: { w1: live(1) }, waiting: true },
  { name: 'an id that exists already', idle: { w1: live(1) }, exists: true },
  { name: 'a claim by the caller', claim: true },
  { name: 'a claim by the caller of a task of another priority', claim: true, pri: '2' },
  { name: 'a claim by the caller while tasks wait', claim: true, waiting: true },
];

describe('Redis add script: the common call and the general form', () => {
  const scratch = redisScratch('add-paths');
  const { r } = scratch;

  async function setUp(base: string, c: Case): Promise<void> {
    await r.set(base + 'seq', 7);
    for (const [w, v] of Object.entries(c.idle ?? {})) await r.hset(base + 'idle', w, v);
    if (c.paused) await r.hset(base + 'meta', 'paused', '1');
    if (c.waiting) {
      await r.hset(base + 't:old', 'd', '{"seq":1}');
      await r.rpush(base + 'w:0', 'old');
      await r.zadd(base + 'prios', 0, '0');
      await r.hset(base + 'cnt', 'new', 1);
    }
    if (c.exists) await r.hset(base + 't:a', 'd', '{"seq":2}', 'st', 'success');
  }

  async function run(base: string, c: Case, general: boolean): Promise<unknown> {
    const pri = c.pri ?? '0';
    const head = '{"id":"a","name":"x","seq":';
    const args: (string | number)[] = [c.claim ? '1' : '', c.claim ? 'me' : '', NOW, NOW + 30_000];
    if (general) args.push('', 'a', head, pri, '');
    else args.push(pri, 'a', head);
    return r.eval(LUA, 1, base, ...args);
  }

  it.each(CASES)('$name', async (c) => {
    const { keys: d } = await sameEffects(r, `${scratch.prefix}:{qc}:`, `${scratch.prefix}:{qg}:`, (base) => setUp(base, c), (base, general) => run(base, c, general));
    // the case does what its name says
    if (c.idle?.w1 && !c.paused && !c.waiting && !c.exists) expect(d['inbox:w1']).toBeDefined();
    else expect(Object.keys(d).some((k) => k.startsWith('inbox:'))).toBe(false);
  });
});

describe('Redis add script: one task, many idle workers', () => {
  const scratch = redisScratch('add-idle');
  const { r } = scratch;

  it('hands the task to the first idle worker that wants one, in the order they entered idle, past those that want none', async () => {
    const base = `${scratch.prefix}:{qi}:`;
    // workers running a task handed to them before (want 0), an expired entry, then two that want
    for (let i = 0; i < 20; i++) await r.hset(base + 'idle', `busy${i}`, live(0));
    await r.hset(base + 'idle', 'gone', `1:${NOW - 1}:30000`);
    await r.hset(base + 'idle', 'w1', live(1), 'w2', live(1));
    const add = (id: string) => r.eval(LUA, 1, base, '', '', NOW, NOW + 30_000, '0', id, `{"id":"${id}","name":"x","seq":`);
    expect(await add('a')).toBe(0);
    expect(await r.hget(base + 't:a', 'wid')).toBe('w1');
    expect(await r.hexists(base + 'idle', 'gone')).toBe(0);
    // w1 re-enters idle where it was (as its finish call does): the same worker gets the next task,
    // its process warm from the last one
    await r.del(base + 'inbox:w1');
    await r.hset(base + 'idle', 'w1', live(1));
    expect(await add('b')).toBe(0);
    expect(await r.hget(base + 't:b', 'wid')).toBe('w1');
    expect(await r.hget(base + 'idle', 'w2')).toBe(live(1));
  });
});

interface BulkCase {
  name: string;
  /** the enqueue seq before the call */
  seq: number;
  tasks: number;
  /** indexes of tasks whose id exists already (as a task hash, or as a key of another type) */
  exists?: number[];
  notHash?: number[];
  idle?: Record<string, string>;
  pri?: string;
  /** ARGV[1]: '' (wake through the marker), '0' (the caller's worker claims right behind) */
  kick?: string;
}

const BULK: BulkCase[] = [
  { name: '250 tasks from seq 7 (seqs below 100, then past 100 and 200)', seq: 7, tasks: 250 },
  { name: 'seqs that gain a digit', seq: 999_950, tasks: 120 },
  { name: 'seqs past 1e10', seq: 9_999_999_899, tasks: 260 },
  { name: 'ids that exist already, one as a key of another type', seq: 95, tasks: 40, exists: [0, 4, 5, 39], notHash: [7] },
  { name: 'an idle worker that gets some of the tasks', seq: 190, tasks: 30, idle: { w1: live(12) } },
  { name: 'a worker of the caller claiming right behind', seq: 42, tasks: 70, kick: '0' },
  { name: 'tasks of another priority', seq: 7, tasks: 120, pri: '4', exists: [2] },
];

describe('Redis add script: a bulk add in the common form and the general form', () => {
  const scratch = redisScratch('add-bulk');
  const { r } = scratch;

  const idOf = (i: number): string => `task-${i}`;

  async function setUp(base: string, c: BulkCase): Promise<void> {
    await r.set(base + 'seq', c.seq);
    for (const [w, v] of Object.entries(c.idle ?? {})) await r.hset(base + 'idle', w, v);
    for (const i of c.exists ?? []) await r.hset(base + 't:' + idOf(i), 'd', '{"seq":1}', 'st', 'success');
    for (const i of c.notHash ?? []) await r.set(base + 't:' + idOf(i), 'x');
  }

  async function run(base: string, c: BulkCase, general: boolean): Promise<unknown> {
    const pri = c.pri ?? '0';
    const args: (string | number)[] = [c.kick ?? '', '', NOW, NOW + 30_000, general ? '' : pri];
    for (let i = 0; i < c.tasks; i++) {
      const head = `{"id":"${idOf(i)}","name":"x","args":[${i}],"seq":`;
      if (general) args.push(idOf(i), head, pri, '');
      else args.push(idOf(i), head);
    }
    return r.eval(LUA, 1, base, ...args);
  }

  it.each(BULK)('$name', async (c) => {
    const common = `${scratch.prefix}:{bc}:`;
    const { keys: d } = await sameEffects(r, common, `${scratch.prefix}:{bg}:`, (base) => setUp(base, c), (base, general) => run(base, c, general));
    // every new task has the next seq, in its data as in `all`, written as a plain integer
    const skipped = new Set([...(c.exists ?? []), ...(c.notHash ?? [])]);
    let seq = c.seq;
    for (let i = 0; i < c.tasks; i++) {
      if (skipped.has(i)) continue;
      seq++;
      const data = await r.hget(common + 't:' + idOf(i), 'd');
      expect(data).toBe(`{"id":"${idOf(i)}","name":"x","args":[${i}],"seq":${seq}}`);
      expect(await r.zscore(common + 'idx', idOf(i))).toBe(String(seq));
    }
    expect(await r.get(common + 'seq')).toBe(String(c.seq + c.tasks));
    if (c.idle) expect(d['inbox:w1']).toBeDefined();
  });
});
