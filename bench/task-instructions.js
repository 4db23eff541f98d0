/**
 * What one task costs Redis in the throughput workload, counted in instructions (deterministic,
 * unlike times on a shared machine; for qtasks and the bare-Lua ceiling Redis is the bottleneck of
 * that workload, so these figures set their rates): starts a private redis-server under valgrind's
 * callgrind, and for each engine enqueues TASKS tasks in batches of 1,000 with no worker running
 * (one phase), then lets a worker of concurrency 50 in this process run them all (the other
 * phase). Prints per task and phase the instructions Redis ran without its timer (serverCron),
 * those in scripts and transactions (EVAL, EVALSHA, EXEC), those in the commands scripts call, and
 * the commands that cost most (each command's own work, without what a script spends calling it),
 * then each engine against the ceiling.
 *
 * Then the process phase runs again the way long-running queues run, for qtasks and (where it has
 * the option) BullMQ: with records that expire during it (qtasks's result ttl EXPIRE_TTL_MS, 500
 * ms, against the default day: a queue that runs for longer than its ttl deletes a record and takes
 * its id out of its indexes for every task it runs), with finished tasks kept to the newest 100
 * (`removeOnComplete: 100`, both), and with every task delayed by 1 ms (`delay: 1`, both: due
 * tasks move to the queue as workers claim). Each prints its cost over the engine's plain process
 * phase (per record swept for expiry, per task for the others).
 *
 * How many tasks a worker's script call carries follows the timing of the run (under valgrind too:
 * a call that meets a slower Redis carries more ends), and the per-call part of a call's cost is
 * spread over them: each line says how many script calls and transactions the phase took, and
 * ROUNDS=3 runs the plain phases three times on fresh queues and keeps the run of median process
 * cost (compare two builds back to back, with ROUNDS=3: runs of one build differ by 1-2k a task).
 *
 * Run: `npm run build && node bench/task-instructions.js` (needs valgrind and redis-server;
 * env: TASKS=5000, BENCH_ONLY=qtasks,ceiling,bee-queue,bullmq, EXPIRE_TTL_MS=500, PHASES=0 to skip
 * the phases of long-running queues, ROUNDS=1). A warm-up queue of 2,000 tasks runs first per
 * engine, unmeasured (scripts loaded, code paths compiled).
 */
'use strict';

const { create } = require('./lib/engines');
const { runMain } = require('./lib/run-main');
const { within } = require('./lib/workload');
const { startCallgrindRedis } = require('./lib/callgrind-redis');
const IORedis = require('ioredis');
const { commandStats, commandDelta } = require('./lib/redis-util');

const TASKS = Number(process.env.TASKS ?? 5000);
const KINDS = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ['qtasks', 'ceiling', 'bee-queue', 'bullmq'];
const EXPIRE_TTL_MS = Number(process.env.EXPIRE_TTL_MS ?? 500);
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 1));
/** The process phase again as long-running queues run it: label, the engines that have it, their settings. */
const PHASES = process.env.PHASES === '0' ? [] : [
  { key: 'expiring', label: `records expiring (ttl ${EXPIRE_TTL_MS} ms)`, kinds: ['qtasks'], config: { resultTtlMs: EXPIRE_TTL_MS } },
  { key: 'kept100', label: 'removeOnComplete: 100', kinds: ['qtasks', 'bullmq'], taskOptions: { removeOnComplete: 100 } },
  { key: 'delayed', label: 'every task delayed 1 ms', kinds: ['qtasks', 'bullmq'], taskOptions: { delay: 1 } },
];
const COMMANDS = ['hset', 'hmget', 'hget', 'hsetnx', 'hincrby', 'pexpire', 'pexpireat', 'sadd', 'srem', 'smismember', 'lpop', 'rpush', 'lpush', 'lrem', 'zadd', 'zrem', 'incr', 'incrby', 'publish', 'exists', 'lindex', 'lrange', 'ltrim', 'llen', 'del', 'zrangebyscore'];
const FNS = ['serverCron', 'evalCommand', 'evalShaCommand', 'execCommand', 'scriptCall', ...COMMANDS.map((c) => `${c}Command`)];

/** A success callback for a worker, and a promise that resolves at the `n`th success. */
function successes(n) {
  let ran = 0;
  let finish;
  const all = new Promise((resolve) => (finish = resolve));
  return { n, onSuccess: () => ++ran === n && finish(), all, ran: () => ran };
}

/** Waits for `s.all`, at most 10 minutes (valgrind runs Redis tens of times slower). */
const reach = (s, what) => within(s.all, 600_000, () => `${what}: ${s.ran()} of ${s.n} tasks ran`);

async function measure(server, kind) {
  const names = (q, config) => ({ url: server.url, name: `cgt-${kind}-${q}-${process.pid}`, prefix: `qtb-cgt-${kind}-${q}-${process.pid}`, config });
  // warm-up on a queue of its own
  const warm = create(kind, names('warm'));
  try {
    const ran = successes(2000);
    const w = await warm.worker(50, ran.onSuccess);
    await warm.enqueue(2000, 1000);
    await w.run();
    await reach(ran, `${kind} warm-up`);
  } finally {
    await warm.close();
  }
  // the plain phases, ROUNDS times: the run of median process cost is kept (of an even count, the
  // lower of the middle two: a run, not an average of two)
  const runs = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await run(server, kind, names(ROUNDS === 1 ? 'run' : `run${i}`), true));
  const out = [...runs].sort((a, b) => cost(a.process) - cost(b.process))[(runs.length - 1) >> 1];
  if (ROUNDS > 1) out.rounds = runs.map((x) => cost(x.process));
  for (const phase of PHASES.filter((p) => p.kinds.includes(kind))) {
    const n = { ...names(phase.key, phase.config), taskOptions: phase.taskOptions };
    out[phase.key] = (await run(server, kind, n, false)).process;
    if (phase.key === 'expiring') {
      // how many were swept is read off the list of finished ids (those left in it were not)
      const r = new IORedis(server.url);
      try {
        out.expiring.swept = TASKS - (await r.llen(`${n.prefix}:{${n.name}}:done:success`));
      } finally {
        r.disconnect();
      }
    }
  }
  return out;
}

/** Enqueues TASKS tasks (counted when `countEnqueue`), then runs them with a worker of concurrency 50 (counted). */
async function run(server, kind, names, countEnqueue) {
  const producer = create(kind, names);
  const worker = create(kind, names);
  try {
    const enq = countEnqueue ? await server.count(() => producer.enqueue(TASKS, 1000), FNS) : await producer.enqueue(TASKS, 1000);
    const ran = successes(TASKS);
    const w = await worker.worker(50, ran.onSuccess);
    const r = new IORedis(server.url);
    let proc;
    try {
      const before = await commandStats(r);
      proc = await server.count(async () => {
        await w.run();
        await reach(ran, kind);
      }, FNS);
      proc.calls = scriptCalls(commandDelta(before, await commandStats(r)));
    } finally {
      r.disconnect();
    }
    return { enqueue: enq, process: proc };
  } finally {
    await producer.close();
    await worker.close();
  }
}

/** What Redis ran in a phase, without its timer. */
const cost = (c) => c.total - c.serverCron;

/** Script calls and transactions in a delta of INFO commandstats. */
const scriptCalls = (delta) => ['eval', 'evalsha', 'exec', 'fcall'].reduce((n, k) => n + (delta[k]?.calls ?? 0), 0);

function line(kind, phase, c) {
  const per = (n) => Math.round(n / TASKS);
  const cmds = COMMANDS.map((name) => [name.toUpperCase(), per(c[`${name}Command`])])
    .filter(([, n]) => n >= 100)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${(n / 1000).toFixed(1)}k`)
    .join(', ');
  console.log(
    `${kind} ${phase}: ${(per(cost(c)) / 1000).toFixed(1)}k per task, ${(per(c.evalCommand + c.evalShaCommand + c.execCommand) / 1000).toFixed(1)}k in scripts and transactions, ` +
      `${(per(c.scriptCall) / 1000).toFixed(1)}k of them in redis.call; commands: ${cmds || 'none over 0.1k'}` +
      (c.calls ? `; ${c.calls} script calls and transactions (${(TASKS / c.calls).toFixed(1)} tasks a call)` : ''),
  );
}

async function main() {
  const server = await startCallgrindRedis();
  const out = {};
  try {
    console.log(`Redis instructions per task under callgrind: ${TASKS} tasks enqueued in batches of 1,000, then run by a worker of concurrency 50`);
    for (const kind of KINDS) {
      out[kind] = await measure(server, kind);
      line(kind, 'enqueue', out[kind].enqueue);
      line(kind, 'process', out[kind].process);
      if (out[kind].rounds) console.log(`- ${kind} process, per round: ${out[kind].rounds.map((n) => (n / TASKS / 1000).toFixed(1) + 'k').join(', ')} a task (the median's run is shown)`);
      for (const phase of PHASES.filter((p) => out[kind][p.key])) {
        const c = out[kind][phase.key];
        line(kind, `process, ${phase.label}`, c);
        const extra = cost(c) - cost(out[kind].process);
        if (phase.key === 'expiring') {
          console.log(`- ${kind}: ${c.swept} of ${TASKS} records expired and were swept during the run: ${(extra / Math.max(1, c.swept) / 1000).toFixed(1)}k Redis instructions per record swept, over the process phase`);
        } else {
          console.log(`- ${kind}, ${phase.label}: ${(extra / TASKS / 1000).toFixed(1)}k Redis instructions per task over the process phase`);
        }
      }
    }
  } finally {
    await server.stop();
  }
  if (out.ceiling) {
    for (const kind of KINDS.filter((k) => k !== 'ceiling' && out[k])) {
      const ratio = (phase) => (cost(out.ceiling[phase]) / cost(out[kind][phase])).toFixed(2);
      console.log(`- ${kind}: the ceiling's instructions per task / ${kind}'s (its rate against the ceiling's where Redis is the bottleneck): enqueue ${ratio('enqueue')}×, process ${ratio('process')}×`);
    }
  }
}

runMain(main);
