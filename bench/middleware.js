// Cost of extensions on the hot path: 100k no-op tasks in memory (concurrency 50, every addTask
// started, then every result awaited) with nothing, one no-op middleware, one no-op plugin hook
// at task:before and one at task:success. Interleaved, median of 3, printed as ratios to none.
// Run after `npm run build`:  node bench/middleware.js [count]
'use strict';
const path = require('path');
const q = require(path.join(__dirname, '..', 'dist'));

const N = Number(process.argv[2] ?? 100_000);

class Noop { run(x) { return x + 1; } }
q.Task({ name: 'noop' })(Noop);

class NoopMiddleware { handle(_ctx, next) { return next(); } }
q.Middleware()(NoopMiddleware);

function pluginAt(point) {
  class NoopPlugin { hook() {} }
  q.Hook(point)(NoopPlugin.prototype, 'hook', Object.getOwnPropertyDescriptor(NoopPlugin.prototype, 'hook'));
  q.Plugin()(NoopPlugin);
  return new NoopPlugin();
}

const variants = {
  none: () => {},
  middleware: (app) => app.use(NoopMiddleware),
  'hook task:before': (app) => app.plugin(pluginAt('task:before')),
  'hook task:success': (app) => app.plugin(pluginAt('task:success')),
};

let seq = 0;
async function once(name, count) {
  const app = new q.QTasks({ name: `bench-mw-${process.pid}-${++seq}`, discover: false, concurrency: 50, config: { logLevel: 'silent' } });
  app.register(Noop);
  variants[name](app);
  await app.start();
  const t0 = process.hrtime.bigint();
  const handles = [];
  for (let i = 0; i < count; i++) handles.push(app.addTask('noop', [i]));
  const results = [];
  for (const h of handles) results.push((await h).result());
  await Promise.all(results);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await app.close();
  return (count / ms) * 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const names = Object.keys(variants);
  for (const name of names) await once(name, Math.min(N, 20_000)); // warm-up
  const rates = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < 3; round++) for (const name of names) rates[name].push(await once(name, N));
  const base = median(rates.none);
  console.log(`# qtasks extension overhead — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${N} tasks, in memory`);
  console.log('');
  console.log('| variant | tasks/s (median of 3) | runs | ratio to none |');
  console.log('|---|---|---|---|');
  for (const name of names) {
    const m = median(rates[name]);
    console.log(`| ${name} | ${Math.round(m).toLocaleString('en-US')} | ${rates[name].map((r) => Math.round(r / 1000) + 'k').join(' / ')} | ${(m / base).toFixed(2)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
