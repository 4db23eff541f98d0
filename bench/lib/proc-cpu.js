/**
 * CPU time of another process of this machine (a server, a worker process), read from /proc
 * (Linux).
 */
'use strict';

const fs = require('node:fs');

const TICK_MS = 1_000 / 100; // USER_HZ: /proc times are in 1/100 s on Linux

/** CPU ms (user + system) of a /proc stat file: a process's, or one of its threads'. */
function statCpuMs(file) {
  const s = fs.readFileSync(file, 'utf8');
  const f = s.slice(s.lastIndexOf(') ') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** CPU ms (user + system) process `pid` has used so far; throws when it cannot be read (gone, or not on this machine). */
function cpuMsOf(pid) {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU ms (user + system) the main thread of process `pid` has used so far (the thread that runs
 * its JavaScript; the rest of a Node process's CPU is V8's compiler and GC threads and libuv's
 * pool); throws as {@link cpuMsOf}.
 */
function mainThreadCpuMsOf(pid) {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

module.exports = { cpuMsOf, mainThreadCpuMsOf };
