/**
 * `npm run bench`: runs bench/memory.js then bench/redis.js, each in its own node process with
 * `--expose-gc`, passing their output through. Exits non-zero when one of them failed.
 */
'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');

const SCRIPTS = ['memory.js', 'redis.js'];

let failed = 0;
for (const script of SCRIPTS) {
  const res = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, script)], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    console.error(`bench/${script} failed (${res.signal ?? `exit ${res.status}`})`);
  }
  console.log('');
}
console.log(`(latest tables written to ${path.relative(process.cwd(), path.join(__dirname, 'RESULTS.md'))})`);
process.exitCode = failed ? 1 : 0;
