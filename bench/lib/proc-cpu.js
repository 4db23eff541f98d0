/**
 * CPU time of another process of this machine (a server, a worker process), read from /proc
 * (Linux).
 */
'use strict';

const fs = require('node:fs');

const TICK_MS = 1_000 / 100; // USER_HZ: /proc times are in 1/100 s on Linux

/** CPU ms (user + system) process `pid` has used so far; throws when it cannot be read (gone, or not on this machine). */
function cpuMsOf(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

module.exports = { cpuMsOf };
