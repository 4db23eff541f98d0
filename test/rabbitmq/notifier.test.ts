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

describe('polling', () => {
  /** A notifier whose storage holds `status` for every id (changeable), counting its reads. */
  function polled(pollMs: number): { n: RabbitNotifier; reads: () => number; finish: () => void } {
    let reads = 0;
    let status: TaskRecord['status'] = 'process';
    const storage = {
      get: (id: string) => {
        reads++;
        return Promise.resolve({ ...ended(id, 1), status });
      },
    } as unknown as Storage;
    const n = new RabbitNotifier(storage, { listen: () => undefined, pollMs: () => pollMs });
    return { n, reads: () => reads, finish: () => (status = 'success') };
  }

  it('a lone waiter reads the storage at the poll interval: an end whose event was missed settles it soon', async () => {
    const { n, finish } = polled(50);
    const t0 = Date.now();
    const waiting = n.waitFinal('a');
    setTimeout(finish, 120);
    await expect(waiting).resolves.toMatchObject({ id: 'a', status: 'success' });
    expect(Date.now() - t0).toBeLessThan(1_000);
    n.close();
  });

  it('thousands of waiters poll less often each: the reads per interval stay about the same', async () => {
    const { n, reads, finish } = polled(50);
    const waiting = Array.from({ length: 2_000 }, (_, i) => n.waitFinal(`t${i}`));
    await new Promise((r) => setTimeout(r, 600));
    // 2,000 first reads, then about 200 per 50 ms (a poll each at 50 ms would be 24,000 more)
    expect(reads()).toBeGreaterThan(2_000);
    expect(reads()).toBeLessThan(6_000);
    finish();
    expect((await Promise.all(waiting)).every((r) => r?.status === 'success')).toBe(true);
    n.close();
  });
});
