// timeline of a RabbitMQ + Redis round trip in one app (worker c=1)
const { QTasks, Task } = require('/work/main');
const { rabbitmqBroker, RabbitMQBroker } = require('/work/main/dist/engines/rabbitmq');
const { redisStorage } = require('/work/main/dist/engines/redis');
const { RabbitWorker } = require('/work/main/dist/engines/rabbitmq/rabbit-worker');
const { RabbitPublisher } = require('/work/main/dist/engines/rabbitmq/rabbit-publisher');
const { RabbitNotifier } = require('/work/main/dist/engines/rabbitmq/rabbit-notifier');
const path = require('node:path');
const amqpDir = path.dirname(require.resolve('amqplib'));
const { Connection } = require(path.join(amqpDir, 'lib/connection'));
const now = () => Number(process.hrtime.bigint()) / 1e6;
let marks = null;
const mark = (k) => { if (marks && !(k in marks)) marks[k] = now() - marks.t0; };
function wrapAsync(proto, fn, label) { const o = proto[fn]; proto[fn] = function (...a) { mark(label + '>'); const r = o.apply(this, a); if (r && r.then) r.then(() => mark(label + '<'), () => {}); else mark(label + '<'); return r; }; }
wrapAsync(RabbitPublisher.prototype, 'publish', 'publish');
{ const o = Connection.prototype.sendMessage; Connection.prototype.sendMessage = function (...a) { mark('amqpSendMsg'); return o.apply(this, a); }; }
{ const o = Connection.prototype.sendMethod; Connection.prototype.sendMethod = function (ch, M, f) { mark('amqpSend:' + (require(path.join(amqpDir, 'lib/defs')).info(M)?.name)); return o.apply(this, arguments); }; }
{ const o = Connection.prototype.recvFrame; Connection.prototype.recvFrame = function () { const f = o.apply(this, arguments); if (f && f.fields && typeof f.id === 'number' && f.size === undefined) mark('amqpRecv:' + require(path.join(amqpDir, 'lib/defs')).info(f.id)?.name); return f; }; }

wrapAsync(RabbitWorker.prototype, 'deliver', 'deliver');
wrapAsync(RabbitMQBroker.prototype, 'finish', 'finish');
wrapAsync(RabbitNotifier.prototype, 'ended', 'ended');
wrapAsync(RabbitNotifier.prototype, 'waitFinal', 'waitFinal');
async function main() {
  let Inc = class { run(x) { mark('run'); return x + 1; } };
  Inc = Task({ name: 'inc' })(Inc) || Inc;
  const prefix = 'qtb-rt-' + process.pid;
  const broker = rabbitmqBroker({ url: 'amqp://guest:guest@127.0.0.1:5672', prefix });
  const storage = redisStorage({ url: 'redis://127.0.0.1:6379', prefix });
  const app = new QTasks({ name: 'rt', discover: false, broker, storage, concurrency: 1, config: { logLevel: 'warn' } }).register(Inc);
  await app.start();
  const w = broker.writer;
  for (const fn of ['insert', 'transition']) { const o = w[fn].bind(w); let n = 0; w[fn] = (...a) => { const lbl = fn === 'transition' ? (a[2].status === 'process' ? 'claimW' : 'endW') : 'insert'; mark(lbl + '>'); return o(...a).then((r) => { mark(lbl + '<'); return r; }); }; }
  { const W = Object.getPrototypeOf(w); const of = W.flush; W.flush = function () { mark('wflush' + (marks && marks.claimW_done ? 'E' : 'C')); return of.apply(this, arguments); };
    const link = storage.link; const os = link.script.bind(link); link.script = (name) => { const fn = os(name); return (k, a) => { mark('script:' + name + '>' + (marks && ('claimW<' in marks) ? 'E' : 'C')); return fn(k, a).then((r) => { mark('script:' + name + '<' + (marks && ('claimW<' in marks) ? 'E' : 'C')); return r; }); }; }; }
  const all = [];
  for (let i = 0; i < 600; i++) {
    marks = { t0: now() };
    const h = await app.addTask('inc', [i]);
    mark('added');
    await h.result();
    mark('result');
    if (i >= 100) all.push(marks);
  }
  marks = null;
  const keys = Object.keys(all[0]).filter((k) => k !== 't0');
  const med = (k) => { const v = all.map((m) => m[k]).filter((x) => x !== undefined).sort((a, b) => a - b); return v[v.length >> 1]; };
  for (const k of keys.sort((a, b) => med(a) - med(b))) console.log(k.padEnd(12), med(k).toFixed(3));
  await app.close();
  const { connect } = require('amqplib');
  const c = await connect('amqp://guest:guest@127.0.0.1:5672'); const ch = await c.createChannel(); const d = broker.declared(); for (const q of d.queues) await ch.deleteQueue(q); for (const e of d.exchanges) await ch.deleteExchange(e); await c.close();
  const IORedis = require('ioredis'); const r = new IORedis(); const ks = await r.keys(prefix + '*'); if (ks.length) await r.del(...ks); r.disconnect();
}
main().catch((e) => { console.error(e); process.exit(1); });
