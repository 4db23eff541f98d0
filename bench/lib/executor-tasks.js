/**
 * Tasks of the executors benchmark, once per executor: a CPU-bound one (20 ms of hashing) and a
 * no-op; plus the inline I/O task (a 5 ms timer). Loaded by path in the threads and processes, so
 * it only declares tasks.
 */
'use strict';
const path = require('node:path');
const { createHash } = require('node:crypto');
const q = require(path.join(__dirname, '..', '..', 'dist'));

/** Hashes for `ms` milliseconds of CPU. */
function hashFor(ms) {
  const until = performance.now() + ms;
  let h = 'qtasks';
  let rounds = 0;
  while (performance.now() < until) {
    h = createHash('sha256').update(h).digest('hex');
    rounds++;
  }
  return rounds;
}

const classes = {};
for (const executor of ['inline', 'thread', 'process']) {
  const Cpu = class { run(ms) { return hashFor(ms); } };
  Object.defineProperty(Cpu, 'name', { value: `Cpu_${executor}` });
  q.Task({ name: `cpu.${executor}`, executor, module: __filename })(Cpu);
  const Noop = class { run(x) { return x + 1; } };
  Object.defineProperty(Noop, 'name', { value: `Noop_${executor}` });
  q.Task({ name: `noop.${executor}`, executor, module: __filename })(Noop);
  classes[`Cpu_${executor}`] = Cpu;
  classes[`Noop_${executor}`] = Noop;
}

class Io {
  run() {
    return new Promise((resolve) => setTimeout(() => resolve(1), 5));
  }
}
q.Task({ name: 'io' })(Io);
classes.Io = Io;

module.exports = classes;
