/**
 * The attempt a claim gives a task, per state the task waits in: the finish script reads a task's
 * attempt count only when the task has a status field (a task never claimed has neither), so each
 * way a task comes back to a wait list is checked here, with the stored count and the reply.
 */
import { join } from 'node:path';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { redisScratch } from './redis-support';

const LUA = loadScripts(join(__dirname, '../../src/engines/redis/lua')).find((s) => s.name === 'finish')!.lua;
const NOW = 1_700_000_000_000;
const WID = 'w1';

interface Case {
  name: string;
  /** fields of the waiting task's hash besides its data */
  fields: Record<string, string>;
  /** the attempt in the claim's reply (undefined: not claimed) */
  reply?: number | string;
  /** its stored attempt count after the call */
  stored?: string;
}

const CASES: Case[] = [
  { name: 'a task never claimed', fields: {}, reply: 1, stored: '1' },
  { name: 'a retry after its second attempt', fields: { st: 'retry', att: '2' }, reply: '3', stored: '3' },
  { name: 'a task handed back before its first attempt counted (att 0)', fields: { st: 'new', att: '0' }, reply: '1', stored: '1' },
  { name: 'a task handed back during its second attempt (att 1)', fields: { st: 'new', att: '1' }, reply: '2', stored: '2' },
  { name: 'a task written with status new and no count', fields: { st: 'new' }, reply: 1, stored: '1' },
  { name: 'a retry with no count (written by hand)', fields: { st: 'retry' }, reply: 1, stored: '1' },
  { name: 'a retry whose count is not a number', fields: { st: 'retry', att: 'x' }, reply: '1', stored: '1' },
  { name: 'a task cancelled while it waited (not claimed)', fields: { st: 'cancel', att: '2' }, stored: '2' },
];

describe('Redis finish script: the attempt a claim gives', () => {
  const scratch = redisScratch('claim-attempts');
  const { r } = scratch;

  it.each(CASES)('$name', async (c) => {
    const base = `${scratch.prefix}:{q${CASES.indexOf(c)}}:`;
    const t = base + 't:a';
    await r.hset(t, 'd', '{"id":"a","name":"x","seq":1}', ...Object.entries(c.fields).flat());
    await r.zadd(base + 'idx', 1, 'a');
    await r.rpush(base + 'w:0', 'a');
    await r.zadd(base + 'prios', 0, '0');
    // no ends, a claim of one task
    const res = (await r.eval(LUA, 1, base, base + 'chan', NOW, WID, 60_000, NOW + 30_000, 1, '', 0, 0, NOW + 6000 + ':30000')) as unknown[];
    const claimed = res[1];
    if (c.reply === undefined) {
      expect(claimed).toBe(0);
      expect(await r.hget(t, 'st')).toBe(c.fields.st);
    } else {
      expect(claimed).toEqual(['a', '{"id":"a","name":"x","seq":1}', c.reply]);
      expect(await r.hmget(t, 'st', 'wid', 'sa')).toEqual(['process', WID, String(NOW)]);
      expect(await r.sismember(base + 'held:' + WID, 'a')).toBe(1);
    }
    expect(await r.hget(t, 'att')).toBe(c.stored ?? null);
  });
});
