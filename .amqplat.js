const { connect } = require('amqplib');
const now = () => Number(process.hrtime.bigint()) / 1e6;
async function lat(opts) {
  const c = await connect('amqp://guest:guest@127.0.0.1:5672', { noDelay: true });
  const pub = opts.confirm ? await c.createConfirmChannel() : await c.createChannel();
  const sub = await c.createChannel();
  const c2 = opts.twoConn ? await connect('amqp://guest:guest@127.0.0.1:5672', { noDelay: true }) : c;
  const sub2 = opts.twoConn ? await c2.createChannel() : sub;
  const q = 'qtb-lat-' + process.pid + '-' + Math.random().toString(36).slice(2);
  const args = { 'x-queue-type': 'classic' };
  if (opts.priority) args['x-max-priority'] = 10;
  if (opts.v2) args['x-queue-version'] = 2;
  if (opts.dlx) args['x-dead-letter-exchange'] = 'amq.fanout';
  await pub.assertQueue(q, { durable: true, arguments: args });
  await sub2.prefetch(1);
  let resolveMsg;
  let last; await sub2.consume(q, (m) => { if (!m) return; if (opts.lateAck) last = m; else sub2.ack(m); resolveMsg(); }, { noAck: false });
  const out = [];
  for (let i = 0; i < 400; i++) {
    const got = new Promise((r) => (resolveMsg = r));
    if (last) { sub2.ack(last); last = undefined; if (opts.gap) await new Promise((r) => setTimeout(r, 0)); }
    const t0 = now();
    const o = { persistent: opts.persistent };
    if (opts.priority) o.priority = 5;
    if (opts.confirm) pub.publish('', q, Buffer.from('x' + i), o, () => {}); else pub.publish('', q, Buffer.from('x' + i), o);
    await got;
    if (i >= 100) out.push(now() - t0);
  }
  out.sort((a, b) => a - b);
  await pub.deleteQueue(q);
  await c.close(); if (opts.twoConn) await c2.close();
  return out[out.length >> 1].toFixed(3) + ' / p90 ' + out[Math.floor(out.length * 0.9)].toFixed(3);
}
(async () => {
  for (let r = 0; r < 3; r++) for (const o of [
    { persistent: true, confirm: true, priority: true },
    { persistent: true, confirm: true, priority: true, v2: true },
    { persistent: true, confirm: true, priority: true, dlx: true },
    { persistent: true, confirm: true, priority: false, v2: true },
  ]) console.log(JSON.stringify(o), await lat(o));
})();
