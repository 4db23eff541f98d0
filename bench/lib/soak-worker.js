/**
 * A worker process of the soak (bench/lib/soak.js), forked with argv[2] = JSON
 * `{ qtasks, url, queue, prefix, concurrency, leaseMs, maxStalls, ledgerKey }`. It runs the task
 * `soak.task`, which notes every run it starts in a Redis set (`ledgerKey`, one member per run:
 * `<task id>|<pid>|<n>`, so a command re-sent after a dropped connection counts once) and then
 * sleeps `ms`. Sends `{ type: 'ready' }` once consuming; obeys `'close'` (closes, then exits 0).
 */
'use strict';

const opts = JSON.parse(process.argv[2]);
require(require.resolve('reflect-metadata', { paths: [opts.qtasks] }));
const { QTasks, Task } = require(opts.qtasks);
const IORedis = require(require.resolve('ioredis', { paths: [opts.qtasks] }));

// retries forever across connection kills and the Redis restart: a run is always noted
const ledger = new IORedis(opts.url, { maxRetriesPerRequest: null, connectionName: `soak-ledger-${process.pid}` });
ledger.on('error', () => undefined);
let runs = 0;

class SoakTask {
  async run(self, _index, ms) {
    await ledger.sadd(opts.ledgerKey, `${self.id}|${process.pid}|${++runs}`);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    return process.pid;
  }
}
Task({ name: 'soak.task', echo: true })(SoakTask);

const app = new QTasks({
  name: opts.queue,
  redis: opts.url,
  concurrency: opts.concurrency,
  discover: false,
  config: { prefix: opts.prefix, logLevel: 'silent', leaseMs: opts.leaseMs, maxStalls: opts.maxStalls, shutdownTimeoutMs: 2000, connectTimeoutMs: 2000 },
});
app.register(SoakTask);

process.on('message', (msg) => {
  if (msg !== 'close') return;
  app
    .close()
    .catch(() => undefined)
    .then(() => ledger.quit().catch(() => ledger.disconnect()))
    .finally(() => process.exit(0));
});

app.start().then(
  () => process.connected && process.send({ type: 'ready', pid: process.pid }),
  (err) => {
    process.stderr.write(`soak worker ${process.pid} failed to start: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  },
);
