/**
 * The add script's paths for one new task due now leave the same state: the same case runs once as
 * the common call (one task, all due now, one priority: the fast paths) and once as the general
 * form (a priority and runAt per task), on two queues set up alike, and every key of both queues
 * and the replies are compared. The cases cover a hand-over to an idle worker and every reason not
 * to hand over.
 */
import { join } from 'node:path';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { dumpKeys, redisScratch } from './redis-support';

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
  /** the caller's own worker claims in the call (ARGV[3] '1') instead */
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

  const keysOf = (base: string, c: Case): string[] => [
    base + 'prios', base + 'delayed', base + 'all', base + 'seq', base + 'cnt', base + 'marker', base + 'meta', base + 'leases',
    base + 'held:' + (c.claim ? 'me' : ''), base + 'idle',
  ];

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
    const args: (string | number)[] = [base + 't:', base + 'w:', c.claim ? '1' : '', c.claim ? 'me' : '', NOW, NOW + 30_000, base + 'inbox:', base + 'held:'];
    if (general) args.push('', 'a', head, pri, '');
    else args.push(pri, 'a', head);
    return r.eval(LUA, 10, ...keysOf(base, c), ...args);
  }

  it.each(CASES)('$name', async (c) => {
    const common = `${scratch.prefix}:{qc}:`;
    const general = `${scratch.prefix}:{qg}:`;
    await setUp(common, c);
    await setUp(general, c);
    const a = await run(common, c, false);
    const b = await run(general, c, true);
    expect(a).toEqual(b);
    const d = await dumpKeys(r, common);
    expect(d).toEqual(await dumpKeys(r, general));
    // the case does what its name says
    if (c.idle?.w1 && !c.paused && !c.waiting && !c.exists) expect(d['inbox:w1']).toBeDefined();
    else expect(Object.keys(d).some((k) => k.startsWith('inbox:'))).toBe(false);
  });
});
