/**
 * The web view's event stream under clients that never read: an app on the in-memory engine runs
 * `tasks` no-op tasks (concurrency 50) while `clients` raw connections hold `GET /api/events` open
 * and never read a byte. Prints the process's RSS before, at its peak during the run, and after, and
 * how many of those clients the server dropped. Against the built package.
 *
 *   npm run build && node bench/web-clients.js [--tasks 100000] [--clients 50]
 */
'use strict';

const net = require('node:net');
const path = require('node:path');

require('reflect-metadata');
const { QTasks, Task } = require(path.join(__dirname, '..', 'dist', 'index.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const TASKS = arg('tasks', 100_000);
const CLIENTS = arg('clients', 50);
const mb = (b) => `${Math.round(b / 2 ** 20)} MB`;

class Inc {
  run(x) {
    return x + 1;
  }
}
Task({ name: 'inc' })(Inc);

async function main() {
  const app = new QTasks({ name: `webclients-${process.pid}`, discover: false, concurrency: 50, config: { logLevel: 'silent' } });
  app.register(Inc);
  await app.start();
  const { port } = await app.web.listen({ port: 0, refreshMs: 1_000 });
  const sockets = [];
  for (let i = 0; i < CLIENTS; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    s.pause();
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  const before = process.memoryUsage().rss;
  let peak = before;
  const meter = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = Date.now();
  for (let i = 0; i < TASKS; i += 10_000) {
    const handles = [];
    for (let k = i; k < Math.min(TASKS, i + 10_000); k++) handles.push(await app.addTask('inc', [k]));
    for (const h of handles) await h.result();
  }
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(meter);
  peak = Math.max(peak, process.memoryUsage().rss);
  // the stream's client count (not public API: read here only to report it)
  const stillServed = app.web.events ? app.web.events.size : undefined;
  for (const s of sockets) s.destroy();
  await app.close();
  console.log(`${TASKS} tasks in ${seconds.toFixed(1)} s with ${CLIENTS} event-stream clients that never read`);
  console.log(`rss before ${mb(before)}, peak ${mb(peak)} (+${mb(peak - before)}); silent clients still served at the end: ${stillServed} of ${CLIENTS}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
