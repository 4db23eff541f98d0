/**
 * The child side of a forked benchmark worker (bench/redis-worker.js, bench/cluster-worker.js).
 * IPC: child → `{ type: 'ready' }` once connected; parent → `'go'`: start consuming; child →
 * `{ type: 'done', n }` with successes since the last message (batched per tick); parent →
 * `'stop'`: close and exit. Errors go up as `{ type: 'error', message }`.
 */
'use strict';

/**
 * Serves the protocol above for one worker: `connect(onSuccess)` connects it without consuming
 * and resolves to `{ run, close }` (`run()` starts consuming; `close()` closes what it opened).
 */
function serveWorker(connect) {
  let pending = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const n = pending;
    pending = 0;
    if (n > 0 && process.connected) process.send({ type: 'done', n });
  };
  const onSuccess = () => {
    pending++;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const fail = (err) => {
    if (process.connected) process.send({ type: 'error', message: String(err && err.stack ? err.stack : err) });
    process.exitCode = 1;
  };
  connect(onSuccess).then(
    (worker) => {
      process.on('message', (msg) => {
        if (msg === 'go') Promise.resolve().then(() => worker.run()).catch(fail);
        if (msg === 'stop') {
          Promise.resolve()
            .then(() => worker.close())
            .catch(fail)
            .finally(() => process.disconnect());
        }
      });
      process.send({ type: 'ready' });
    },
    (err) => {
      fail(err);
      process.disconnect();
    },
  );
}

module.exports = { serveWorker };
