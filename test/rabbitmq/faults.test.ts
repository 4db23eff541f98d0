/**
 * RabbitMQ broker faults and pairing: connections closed by RabbitMQ while tasks run (the broker
 * reconnects and every task ends once), RabbitMQ unreachable (`QTASKS_ERR_BROKER_UNAVAILABLE`
 * within `connectTimeoutMs`), and a storage without record writes (`QTASKS_ERR_INCOMPATIBLE_ENGINE`).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { ErrorCodes, QTasks, Storage } from 'qtasks';
import { rabbitmqBroker } from 'qtasks/rabbitmq';
import { redisStorage } from 'qtasks/redis';
import { BrokerTasks, probe } from 'qtasks/conformance';
import { waitFor } from 'qtasks/conformance';
import { REDIS_URL } from '../redis/redis-support';
import { rabbitRedisEngine, trackApps } from './rabbit-support';

const engine = rabbitRedisEngine('rf');
const tracker = trackApps(engine);
beforeEach(() => probe.reset());

/** Closes, from the RabbitMQ side, every connection whose name mentions `queue`; returns how many. */
function closeConnectionsOf(queue: string): number {
  const rows = execFileSync('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'], { encoding: 'utf8' });
  let n = 0;
  for (const line of rows.split('\n')) {
    if (!line.includes(queue)) continue;
    execFileSync('rabbitmqctl', ['close_connection', line.split('\t')[0], 'test'], { stdio: 'ignore' });
    n++;
  }
  return n;
}

it('reconnects after RabbitMQ closes its connections while tasks run: every task ends once, nothing lost', async () => {
  const app = (await tracker.make({ suite: 'rf', concurrency: 4 })).register(BrokerTasks);
  await app.start();
  const handles = [];
  for (let i = 0; i < 12; i++) handles.push(await app.addTask('cb.wait', [300]));
  await waitFor(() => probe.started.length >= 2, 'tasks to start', 10_000);
  expect(closeConnectionsOf(app.name)).toBeGreaterThan(0);
  const late = await app.addTask('cb.add', [2, 3]); // waits for the reconnection
  const results = await Promise.all(handles.map((h) => h.result({ timeout: 20_000 })));
  expect(results).toEqual(handles.map(() => 'waited'));
  expect(await late.result({ timeout: 10_000 })).toBe(5);
  for (const h of handles) expect(probe.runs(h.id)).toBe(1);
  expect((await app.manager.counts()).success).toBe(13);
}, 40_000);

it('fails QTASKS_ERR_BROKER_UNAVAILABLE when RabbitMQ cannot be reached', async () => {
  const app = new QTasks({
    name: `rf-down-${process.pid}`,
    discover: false,
    config: { logLevel: 'silent', connectTimeoutMs: 500 },
    broker: rabbitmqBroker({ url: 'amqp://guest:guest@127.0.0.1:1' }),
    storage: redisStorage(REDIS_URL),
  }).register(BrokerTasks);
  try {
    await expect(app.addTask('cb.add', [1, 1])).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });
  } finally {
    await app.close();
  }
});

it('refuses, at construction, a storage that offers no record writes', () => {
  const storage = { engine: 'elsewhere' } as unknown as Storage;
  expect(() => new QTasks({ discover: false, broker: rabbitmqBroker({ url: 'amqp://127.0.0.1' }), storage })).toThrow(
    expect.objectContaining({ code: ErrorCodes.INCOMPATIBLE_ENGINE }),
  );
});
