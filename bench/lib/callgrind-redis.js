/**
 * A private redis-server under valgrind's callgrind, for benchmarks that count what Redis ran in
 * instructions (repeatable for the same build and inputs, unlike times on a shared machine).
 * `count(phase, names)` zeroes the counters, runs `phase`, dumps them and returns the program's
 * total and the inclusive instructions of each named Redis function during the phase.
 * `CALLGRIND_KEEP=<dir>` keeps each phase's callgrind output there (`cg-<time>.out`), for
 * `callgrind_annotate` (Redis's own functions by name; Lua's are static, shown as addresses).
 */
'use strict';

const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const IORedis = require('ioredis');
const { freePort } = require('./redis-servers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 1 << 28 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** Starts the server (collecting from the start; counters are zeroed per phase). */
async function startCallgrindRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtasks-bench-cg-'));
  const port = await freePort();
  const out = path.join(dir, 'cg.out');
  const proc = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  proc.on('error', () => undefined);
  const stop = async () => {
    proc.kill('SIGKILL');
    if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const r = new IORedis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  const until = Date.now() + 60_000;
  for (;;) {
    if ((await r.connect().then(() => r.ping(), () => '')) === 'PONG') break;
    if (proc.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error('redis-server did not start under valgrind (are valgrind and redis-server installed?)');
    }
    await sleep(200);
  }
  r.disconnect();
  /** Runs `phase`; returns the inclusive instructions of each function named, during it. */
  const count = async (phase, names) => {
    await run('callgrind_control', ['-z', String(proc.pid)]);
    await phase();
    await run('callgrind_control', ['-d', String(proc.pid)]);
    const dumps = fs.readdirSync(dir).filter((f) => f.startsWith('cg.out.')).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    const file = path.join(dir, dumps[dumps.length - 1]);
    const text = await run('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file]);
    if (process.env.CALLGRIND_KEEP) fs.copyFileSync(file, `${process.env.CALLGRIND_KEEP}/cg-${Date.now()}.out`);
    fs.rmSync(file);
    const total = Number(/^\s*([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/m.exec(text)?.[1].replace(/,/g, '') ?? NaN);
    const of = (fn) => Number(new RegExp(`^\\s*([\\d,]+) .*\\?\\?\\?:${fn} `, 'm').exec(text)?.[1].replace(/,/g, '') ?? 0);
    return { total, ...Object.fromEntries(names.map((n) => [n, of(n)])) };
  };
  return { url: `redis://127.0.0.1:${port}`, count, stop };
}

module.exports = { startCallgrindRedis };
