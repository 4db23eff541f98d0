/**
 * Prints the hottest functions of a `node --cpu-prof` profile by self time, so a benchmark can be
 * read without a browser.
 *
 * Usage: `node bench/lib/cpuprofile-top.js <file.cpuprofile> [count] [filter]`
 * (filter: a substring of the script URL, e.g. `dist/` to see only qtasks code).
 */
'use strict';

const fs = require('node:fs');

const [file, countArg, filter] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/cpuprofile-top.js <file.cpuprofile> [count] [filter]');
  process.exit(2);
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (dt[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const rows = new Map();
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame;
  const where = cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/')}:${cf.lineNumber + 1}` : '';
  if (filter && !where.includes(filter)) continue;
  const key = `${cf.functionName || '(anonymous)'} ${where}`;
  rows.set(key, (rows.get(key) ?? 0) + us);
}
const top = [...rows].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 25));
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
for (const [key, us] of top) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}
