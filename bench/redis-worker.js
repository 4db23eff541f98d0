/**
 * A worker process of the "two processes" Redis workload, forked by bench/redis.js.
 * argv[2] is JSON `{ kind, url, name, prefix, concurrency }`. Protocol over IPC:
 * child → `{ type: 'ready' }` once connected; parent → `'go'`: start consuming;
 * child → `{ type: 'done', n }` with successes since the last message (batched per tick);
 * parent → `'stop'`: close and exit. Errors go up as `{ type: 'error', message }`.
 */
'use strict';

const { create } = require('./lib/engines');

const opts = JSON.parse(process.argv[2]);
let engine;
let pending = 0;
let scheduled = false;

function flush() {
  scheduled = false;
  const n = pending;
  pending = 0;
  if (n > 0 && process.connected) process.send({ type: 'done', n });
}

function onSuccess() {
  pending++;
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

function fail(err) {
  if (process.connected) process.send({ type: 'error', message: String(err && err.stack ? err.stack : err) });
  process.exitCode = 1;
}

async function main() {
  engine = create(opts.kind, opts);
  const worker = await engine.worker(opts.concurrency, onSuccess);
  process.on('message', (msg) => {
    if (msg === 'go') Promise.resolve(worker.run()).catch(fail);
    if (msg === 'stop') {
      engine
        .close()
        .catch(fail)
        .finally(() => process.disconnect());
    }
  });
  process.send({ type: 'ready' });
}

main().catch((err) => {
  fail(err);
  process.disconnect();
});
