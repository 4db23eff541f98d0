/**
 * `npm run soak`: worker processes consume a Redis queue while workers are SIGKILLed, connections
 * killed and Redis restarted; prints tasks, faults, lost and duplicates (bench/lib/soak.js). Runs
 * against the built package (`npm run soak` builds it first) on a private redis-server.
 *
 *   npm run soak -- [--tasks 30000] [--workers 4] [--concurrency 8] [--task-ms 2]
 *                   [--kill-every-ms 2000] [--conn-kill-every-ms 3000] [--redis-restarts 1]
 *                   [--lease-ms 2000] [--max-stalls 20] [--timeout-s 900] [--json]
 *
 * Exits 1 when a task was lost (did not end success) or the run timed out.
 */
'use strict';

const { runSoak, formatSoak, SOAK_DEFAULTS } = require('./lib/soak');

const FLAGS = {
  tasks: 'tasks', workers: 'workers', concurrency: 'concurrency', 'task-ms': 'taskMs', 'kill-every-ms': 'killEveryMs',
  'conn-kill-every-ms': 'connKillEveryMs', 'redis-restarts': 'redisRestarts', 'lease-ms': 'leaseMs', 'max-stalls': 'maxStalls',
};

function parseArgs(argv) {
  const options = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      console.log(`usage: npm run soak -- ${Object.keys(FLAGS).map((f) => `[--${f} N]`).join(' ')} [--timeout-s N] [--json]`);
      console.log(`defaults: ${JSON.stringify({ ...SOAK_DEFAULTS, qtasks: undefined })}`);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = m && m[1];
    if (!name || (!(name in FLAGS) && name !== 'timeout-s')) {
      console.error(`soak: unknown argument "${arg}" (try --help)`);
      process.exit(2);
    }
    const raw = m[2] ?? argv[++i];
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n) || n < 0) {
      console.error(`soak: --${name} takes a number, got ${JSON.stringify(raw)}`);
      process.exit(2);
    }
    if (name === 'timeout-s') options.timeoutMs = n * 1_000;
    else options[FLAGS[name]] = n;
  }
  return { options, json };
}

const { options, json } = parseArgs(process.argv.slice(2));
runSoak({ ...options, log: json ? undefined : (line) => console.log(`soak: ${line}`) }).then(
  (report) => {
    if (json) console.log(JSON.stringify(report, null, 2));
    else for (const line of formatSoak(report)) console.log(line);
    process.exitCode = report.lost > 0 || report.timedOut ? 1 : 0;
  },
  (err) => {
    console.error(`soak failed: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  },
);
