/**
 * An idle worker's finish call goes out as a PING, the script and its next blocking pop, in one
 * write: Redis writes the replies of one turn of its event loop to the clients newest first, and a
 * caller whose PING was answered earlier in that turn is older than the subscribers the script's
 * PUBLISH gives a message, so the end's announcement leaves Redis before the worker's reply (the
 * gain, a write's time on every trip, is measured in bench/, not here).
 */
import 'reflect-metadata';
import IORedis, { Command } from 'ioredis';
import { Task } from 'qtasks';
import { redisQueueFixture } from './redis-support';

jest.setTimeout(30_000);

class PublishOrderTasks {
  @Task({ name: 'po.echo' })
  echo(v: string): string {
    return v;
  }
}

describe('Redis engine: an idle worker finishes with a PING first', () => {
  const fx = redisQueueFixture('po', PublishOrderTasks);

  it('sends PING, the finish script and its next pop in that order; the producer gets each result', async () => {
    const sent = new Map<IORedis, string[]>();
    const send = IORedis.prototype.sendCommand;
    const spy = jest.spyOn(IORedis.prototype, 'sendCommand').mockImplementation(function (this: IORedis, command: Command, stream?: Parameters<IORedis['sendCommand']>[1]) {
      const list = sent.get(this) ?? [];
      list.push(command.name);
      sent.set(this, list);
      return send.call(this, command, stream);
    });
    try {
      const worker = fx.app({ concurrency: 1 });
      await worker.start();
      const producer = fx.app();
      for (let i = 0; i < 3; i++) {
        const h = await producer.addTask('po.echo', [`v${i}`]);
        await expect(h.result({ timeout: 10_000 })).resolves.toBe(`v${i}`);
      }
      // on the worker's blocking connection: each end's call between a PING and the next pop
      const finishes = [...sent.values()]
        .map((names) => names.join(' '))
        .map((line) => (line.match(/ping (?:evalsha|eval) bzpopmin/g) ?? []).length);
      expect(Math.max(...finishes)).toBeGreaterThanOrEqual(3);
    } finally {
      spy.mockRestore();
    }
  });
});
