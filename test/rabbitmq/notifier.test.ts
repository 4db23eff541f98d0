/**
 * The RabbitMQ broker's waiters settle from the ends heard lately when the storage no longer has
 * the record (dropped at its end): the newest end heard of the task, for the last 1,000 ends.
 */
import type { Storage } from '../../src/engine/storage';
import { RabbitNotifier } from '../../src/engines/rabbitmq/rabbit-notifier';
import type { TaskRecord } from '../../src/task/task-record';

function ended(id: string, attempt: number): TaskRecord {
  return { id, name: 't', status: 'success', priority: 0, args: [], attempt, createdAt: 1, updatedAt: 2, finishedAt: 2 };
}

/** A notifier whose storage has no record at all (every record dropped at its end). */
function notifier(): RabbitNotifier {
  const storage = { get: () => Promise.resolve(undefined) } as unknown as Storage;
  return new RabbitNotifier(storage, { listen: () => undefined, pollMs: (slow) => slow });
}

it('settles a result() of a dropped record with the newest end heard of it', async () => {
  const n = notifier();
  n.ended(ended('a', 1));
  n.ended(ended('b', 1));
  n.ended(ended('a', 2));
  await expect(n.waitFinal('a')).resolves.toMatchObject({ id: 'a', attempt: 2 });
  await expect(n.waitFinal('b')).resolves.toMatchObject({ id: 'b', attempt: 1 });
  n.close();
});

it('keeps the last 1,000 ends heard: an older one is unknown', async () => {
  const n = notifier();
  for (let i = 0; i < 1_500; i++) n.ended(ended(`t${i}`, 1));
  await expect(n.waitFinal('t1499')).resolves.toMatchObject({ id: 't1499' });
  await expect(n.waitFinal('t500')).resolves.toMatchObject({ id: 't500' });
  // not heard lately: unknown once the grace for an end in flight is over
  await expect(n.waitFinal('t499')).resolves.toBeUndefined();
  n.close();
});
