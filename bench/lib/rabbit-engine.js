/**
 * The bench adapter of qtasks on a RabbitMQ broker with the Redis storage (same steps as the
 * adapters of bench/lib/engines.js), and the deletion of a run's AMQP queues and exchanges.
 */
'use strict';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** More options of the broker, as JSON (e.g. `{"queueType":"quorum"}`). */
const BROKER_OPTIONS = JSON.parse(process.env.BENCH_RABBIT_OPTIONS ?? '{}');
const now = () => Number(process.hrtime.bigint()) / 1e6;

function range(from, to) {
  const out = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** qtasks, RabbitMQ broker + Redis storage, from the built package. */
function rabbitRedis({ url, name, prefix }) {
  const { QTasks } = require('../..');
  const { rabbitmqBroker } = require('../../dist/engines/rabbitmq');
  const { redisStorage } = require('../../dist/engines/redis');
  const { incTask, successCounter } = require('./inc-task');
  const brokers = [];
  let app;
  const mainApp = (concurrency) => {
    if (app) return app;
    const broker = rabbitmqBroker({ ...BROKER_OPTIONS, url: AMQP_URL, prefix });
    brokers.push(broker);
    app = new QTasks({ name, broker, storage: redisStorage({ url, prefix }), concurrency, config: { logLevel: 'warn' }, discover: false });
    app.register(incTask());
    return app;
  };
  return {
    async enqueue(total, batch) {
      const a = mainApp(50);
      for (let i = 0; i < total; i += batch) {
        await a.addTasks(range(i, Math.min(total, i + batch)).map((x) => ({ name: 'inc', args: [x] })));
      }
    },
    async worker(concurrency, onSuccess) {
      const a = mainApp(concurrency);
      a.plugin(successCounter(onSuccess));
      await a.getTask('none');
      return { run: () => a.start() };
    },
    async roundTrip(count) {
      const a = mainApp(1);
      await a.start();
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const h = await a.addTask('inc', [i]);
        await h.result();
        out.push(now() - t0);
      }
      return out;
    },
    async close() {
      if (app) await app.close();
      await deleteAmqp(brokers);
    },
  };
}

/** Deletes the queues and exchanges the brokers declared. */
async function deleteAmqp(brokers) {
  const { connect } = require('amqplib');
  const live = brokers.filter((b) => b.names !== undefined);
  if (live.length === 0) return;
  const c = await connect(AMQP_URL);
  try {
    const ch = await c.createChannel();
    for (const b of live) {
      const { queues, exchanges } = b.declared();
      for (const q of queues) await ch.deleteQueue(q);
      for (const e of exchanges) await ch.deleteExchange(e);
    }
  } finally {
    await c.close();
  }
}

module.exports = { rabbitRedis, AMQP_URL };
