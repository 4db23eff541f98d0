/**
 * What the building blocks of a Lua script cost Redis, in instructions (deterministic): starts a
 * private redis-server under valgrind's callgrind and runs small scripts by EVALSHA, each N times in
 * one pipeline, then prints each block's cost per use, from the difference between two scripts that
 * differ only in that block. It is the price list behind the engine's scripts' choices (names built
 * from one key base rather than passed as keys, numbers formatted by the caller, a bare 0 replied
 * instead of an empty table): compare a change's saving with these before measuring it.
 *
 * Run: `node bench/lua-instructions.js` (needs valgrind and redis-server; env: N=300).
 */
'use strict';

const IORedis = require('ioredis');
const { runMain } = require('./lib/run-main');
const { startCallgrindRedis } = require('./lib/callgrind-redis');

const N = Number(process.env.N ?? 300);
const KEY = 'qtb-lua:{x}:';

/** A list of 20 ids (`t`), built alike by the scripts that reply it. */
const IDS20 = "local t = {} for i = 1, 20 do t[i] = 'task-' .. i .. '-abcdefghijklmn' end";

/** name -> [script, how many ARGV it gets]; ARGV[1] is 's1:abc:def', the rest `arg<i>`. */
const SCRIPTS = {
  empty: ['return 0', 0],
  args8: ['return 0', 8],
  arg1: ['return 0', 1],
  concat8: [
    "local B = KEYS[1]\nlocal a1, a2, a3, a4, a5, a6, a7, a8 = B .. 'prios', B .. 'delayed', B .. 'cnt', B .. 'meta', B .. 'held:' , B .. 'cancels', B .. 'idle', B .. 'inbox:'\nreturn 0",
    1,
  ],
  call1: ["redis.call('EXISTS', KEYS[1])\nreturn 0", 0],
  call2: ["redis.call('EXISTS', KEYS[1])\nredis.call('EXISTS', KEYS[1])\nreturn 0", 0],
  hincrby: ["redis.call('EXISTS', KEYS[1])\nredis.call('HINCRBY', KEYS[1], 'process', '1')\nreturn 0", 0],
  reply5: ["return { '1', 0, '', -1, 'abc' }", 0],
  reply1: ["return 'abc'", 0],
  closures3: ['local function f(a) return a end\nlocal function g(a) return a end\nlocal function h(a) return a end\nreturn 0', 0],
  strops4: ["local s = ARGV[1]\nlocal a, b, c, d = string.sub(s, 1, 1), string.sub(s, 3), string.byte(s, 2), string.find(s, ':', 1, true)\nreturn 0", 1],
  format: ["local s = string.format('%d', 1796299944743 + 30000)\nreturn 0", 0],
  tonumber3: ['local a, b, c = tonumber(ARGV[1]), tonumber(ARGV[1]), tonumber(ARGV[1])\nreturn 0', 1],
  // reads of a task hash as a claim makes them (its data only: a task never claimed)
  hget: ["redis.call('HGET', KEYS[1] .. 't', 'd')\nreturn 0", 0],
  hmget2: ["redis.call('HMGET', KEYS[1] .. 't', 'd', 'st')\nreturn 0", 0],
  hmget3: ["redis.call('HMGET', KEYS[1] .. 't', 'd', 'st', 'att')\nreturn 0", 0],
  // 20 ids in a reply: as 20 elements, or as one JSON string
  ids20: [`${IDS20}\nreturn t`, 0],
  ids20json: [`${IDS20}\nreturn { cjson.encode(t) }`, 0],
  ids20built: [`${IDS20}\nreturn 0`, 0],
};

/** [block, script, baseline, uses of the block in the script] */
const BLOCKS = [
  ['EVALSHA of `return 0`, no arguments (parsing, lookup, Lua call, reply)', 'empty', null, 1],
  ['an argument (ARGV)', 'args8', 'empty', 8],
  ['a key name built in Lua (`base .. "name"`)', 'concat8', 'arg1', 8],
  ['a redis.call (EXISTS: glue, lookup, command, reply to Lua)', 'call2', 'call1', 1],
  ['a HINCRBY on a small hash instead of an EXISTS', 'hincrby', 'call2', 1],
  ['a reply of 5 elements instead of 0', 'reply5', 'empty', 1],
  ['a reply of one string instead of 0', 'reply1', 'empty', 1],
  ['a local function (closure)', 'closures3', 'empty', 3],
  ['a string.sub/byte/find call', 'strops4', 'arg1', 4],
  ["a string.format('%d', n)", 'format', 'empty', 1],
  ['a tonumber', 'tonumber3', 'arg1', 3],
  ['an HGET of a task\'s data', 'hget', 'empty', 1],
  ['a second field asked of HMGET (missing, as a new task\'s status is)', 'hmget2', 'hget', 1],
  ['a third field asked of HMGET (missing)', 'hmget3', 'hmget2', 1],
  ['an id in a reply table (one of 20)', 'ids20', 'ids20built', 20],
  ['an id in a reply as part of one cjson.encode of the 20', 'ids20json', 'ids20built', 20],
];

async function main() {
  const server = await startCallgrindRedis();
  const r = new IORedis(server.url);
  try {
    // a task hash as an enqueue leaves it (its data is longer than a listpack's values: a hashtable)
    await r.hset(KEY + 't', 'd', JSON.stringify({ id: 'task-1-abcdefghijklmn', name: 'inc', args: [1], createdAt: 1796299944743, seq: 1 }).padEnd(96, ' '));
    const cost = {};
    for (const [name, [lua, nargs]] of Object.entries(SCRIPTS)) {
      const sha = await r.script('LOAD', lua);
      const args = Array.from({ length: nargs }, (_, i) => (i === 0 ? 's1:abc:def' : `arg${i}`));
      for (let i = 0; i < 20; i++) await r.evalsha(sha, 1, KEY, ...args);
      const c = await server.count(async () => {
        const p = r.pipeline();
        for (let i = 0; i < N; i++) p.evalsha(sha, 1, KEY, ...args);
        await p.exec();
      }, []);
      cost[name] = c.total / N;
    }
    console.log(`Redis instructions per use under callgrind (${N} EVALSHA calls of each script, one pipeline; all of Redis's work counted)`);
    for (const [what, script, base, uses] of BLOCKS) {
      const per = (cost[script] - (base ? cost[base] : 0)) / uses;
      console.log(`${(per / 1000).toFixed(2).padStart(7)}k  ${what}`);
    }
  } finally {
    r.disconnect();
    await server.stop();
  }
}

runMain(main);
