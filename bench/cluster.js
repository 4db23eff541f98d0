/**
 * Partitions on a Redis Cluster: one queue on one Redis, on a 3-master cluster (with 3 replicas)
 * with 1 partition, and with 3 partitions, in the same run (interleaved, median of BENCH_ROUNDS).
 * All servers are private `redis-server` processes started here. A producer (this process)
 * enqueues BENCH_REDIS_TASKS `x => x + 1` tasks with `addTasks` in batches of 1,000 (enqueue rate);
 * then BENCH_CLUSTER_WORKERS worker processes (concurrency 50 each), connected beforehand, start
 * together: the time until the last success is the process rate. The CPU seconds used by the Redis
 * servers and by the worker processes meanwhile say what the machine spent its cores on.
 * Prints one Markdown table plus the ratios and writes it into bench/RESULTS.md (section cluster).
 *
 *   npm run build && node bench/cluster.js
 */
'use strict';

const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');
const { QTasks } = require('..');
const { incTask } = require('./lib/inc-task');
const { startRedis, startCluster, flush, run } = require('./lib/redis-servers');
const { median, fmtInt, fmtRatio, header, writeSection } = require('./lib/report');
const { cpuMsOf } = require('./lib/proc-cpu');

const TOTAL = Number(process.env.BENCH_REDIS_TASKS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKERS = Number(process.env.BENCH_CLUSTER_WORKERS ?? 2);
const CONCURRENCY = 50;
const BATCH = 1_000;

/** CPU seconds (user + system) a process has used so far; 0 when it cannot be read. */
function cpuSeconds(pid) {
  try {
    return cpuMsOf(pid) / 1000;
  } catch {
    return 0;
  }
}
const cpuOf = (pids) => pids.reduce((a, p) => a + cpuSeconds(p), 0);

function startWorkers(redis, name, partitions) {
  return Promise.all(
    Array.from({ length: WORKERS }, () => {
      const child = fork(path.join(__dirname, 'cluster-worker.js'), [JSON.stringify({ redis, name, partitions, concurrency: CONCURRENCY })]);
      return new Promise((resolve, reject) => {
        child.on('message', function ready(m) {
          if (m.type === 'ready') {
            child.off('message', ready);
            resolve(child);
          } else if (m.type === 'error') reject(new Error(m.message));
        });
        child.once('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
      });
    }),
  );
}

/** One measured run of `setup`: returns `{ enqueue, process, redisCpu, workerCpu, seconds }`. */
async function once(setup, round) {
  const name = `bench-${setup.key}-${round}-${Date.now().toString(36)}`;
  const workers = await startWorkers(setup.redis, name, setup.partitions);
  const producer = new QTasks({ name, redis: setup.redis, queues: { [name]: { partitions: setup.partitions } }, discover: false, config: { logLevel: 'warn' } });
  producer.register(incTask());
  try {
    const t0 = performance.now();
    for (let i = 0; i < TOTAL; i += BATCH) {
      await producer.addTasks(Array.from({ length: Math.min(BATCH, TOTAL - i) }, (_, j) => ({ name: 'inc', args: [i + j] })));
    }
    const enqueue = TOTAL / ((performance.now() - t0) / 1000);
    let done = 0;
    const finished = new Promise((resolve, reject) => {
      for (const w of workers) {
        w.on('message', (m) => {
          if (m.type === 'done' && (done += m.n) >= TOTAL) resolve();
          if (m.type === 'error') reject(new Error(m.message));
        });
      }
    });
    const redisBefore = cpuOf(setup.pids);
    const workersBefore = cpuOf(workers.map((w) => w.pid));
    const t1 = performance.now();
    for (const w of workers) w.send('go');
    await finished;
    const seconds = (performance.now() - t1) / 1000;
    return { enqueue, process: TOTAL / seconds, redisCpu: cpuOf(setup.pids) - redisBefore, workerCpu: cpuOf(workers.map((w) => w.pid)) - workersBefore, seconds };
  } finally {
    await producer.close();
    await Promise.all(workers.map((w) => new Promise((r) => {
      w.once('exit', r);
      if (w.connected) w.send('stop');
      setTimeout(() => w.kill('SIGKILL'), 5_000).unref();
    })));
    await flush(setup.flushPorts);
  }
}

async function main() {
  const single = await startRedis();
  let cluster;
  try {
    cluster = await startCluster();
    const version = /redis_version:(\S+)/.exec(await run('redis-cli', ['-p', String(single.port), 'info', 'server']))?.[1] ?? '?';
    const setups = [
      { key: 'one', label: 'one Redis, 1 partition', redis: single.url, partitions: 1, pids: single.pids, flushPorts: [single.port] },
      { key: 'c1', label: '3-master cluster, 1 partition', redis: { cluster: cluster.startNodes }, partitions: 1, pids: cluster.pids, flushPorts: cluster.masters },
      { key: 'c3', label: '3-master cluster, 3 partitions', redis: { cluster: cluster.startNodes }, partitions: 3, pids: cluster.pids, flushPorts: cluster.masters },
    ];
    const results = new Map(setups.map((s) => [s.key, []]));
    const load = os.loadavg()[0];
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of setups) {
        const r = await once(s, round);
        results.get(s.key).push(r);
        console.error(`round ${round + 1} ${s.label}: process ${fmtInt(r.process)}/s, enqueue ${fmtInt(r.enqueue)}/s, Redis CPU ${r.redisCpu.toFixed(2)} s, workers CPU ${r.workerCpu.toFixed(2)} s in ${r.seconds.toFixed(2)} s`);
      }
    }
    const med = (key, f) => median(results.get(key).map((r) => r[f]));
    const base = med('one', 'process');
    const rows = setups.map((s) => {
      const secs = med(s.key, 'seconds');
      return `| ${s.label} | ${fmtInt(med(s.key, 'process'))} | ${fmtInt(med(s.key, 'enqueue'))} | ${fmtRatio(med(s.key, 'process') / base)} | ${(med(s.key, 'redisCpu') / secs).toFixed(2)} | ${(med(s.key, 'workerCpu') / secs).toFixed(2)} |`;
    });
    const table = [
      header('Redis Cluster partitions (qtasks)', [
        `Redis ${version}`,
        `${TOTAL} tasks, ${WORKERS} worker processes × concurrency ${CONCURRENCY}, producer apart, median of ${ROUNDS}`,
        `load average ${load.toFixed(1)} at start`,
      ]),
      '',
      '| setup | process / s | enqueue / s | process vs one Redis | Redis cores busy | worker cores busy |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `3 partitions vs 1 on the cluster: process ${fmtRatio(med('c3', 'process') / med('c1', 'process'))}, enqueue ${fmtRatio(med('c3', 'enqueue') / med('c1', 'enqueue'))}.`,
      '"cores busy": CPU seconds used during the process phase per second of it (all Redis servers of the setup; all worker processes).',
    ].join('\n');
    console.log(table);
    if (TOTAL === 20_000 && ROUNDS >= 3) writeSection('cluster', table);
  } finally {
    await cluster?.stop();
    await single.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
