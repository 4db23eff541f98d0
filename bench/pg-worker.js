/**
 * A worker process of the PostgreSQL cross-process round trip, forked by bench/postgres.js.
 * argv[2] is JSON `{ kind, url, name }`. It starts a worker of concurrency 1 and says
 * `{ type: 'ready' }`; for the peers (which tell a producer nothing) it reports each job it ended as
 * `{ type: 'done', id }`. Parent → `'stop'`: close and exit.
 */
'use strict';

const { create } = require('./lib/pg-engines');

const opts = JSON.parse(process.argv[2]);

async function main() {
  const engine = create(opts.kind, opts);
  const worker = await engine.worker(1, (id) => opts.kind !== 'qtasks' && process.connected && process.send({ type: 'done', id }));
  await worker.run();
  process.on('message', (msg) => {
    if (msg === 'stop') engine.close().finally(() => process.disconnect());
  });
  process.send({ type: 'ready' });
}

main().catch((err) => {
  if (process.connected) process.send({ type: 'error', message: String(err && err.stack ? err.stack : err) });
  process.exitCode = 1;
});
