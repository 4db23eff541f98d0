/**
 * A cancel that races with a worker's claim on the RabbitMQ broker: the claim is recorded in the
 * storage (`process`) but its reply reaches the worker only after the cancel did (the cancel
 * travels on the bus, the claim's reply on the storage's connection). The task must end `cancel`
 * without running, as a task cancelled while queued does.
 */
import 'reflect-metadata';
import { Task } from 'qtasks';
import { flow } from 'qtasks';
import type { RecordPatch } from '../../src/engine/storage';
import type { TaskRecord, TaskStatus } from 'qtasks';
import { waitFor } from 'qtasks/conformance';
import { RabbitWorker } from '../../src/engines/rabbitmq/rabbit-worker';
import { rabbitRedisEngine, trackApps } from './rabbit-support';

const engine = rabbitRedisEngine('rcr');
const tracker = trackApps(engine, { restoreMocks: true });

const ran: string[] = [];

class RaceTasks {
  @Task({ name: 'race.child' })
  child(): string {
    ran.push('child');
    return 'child';
  }

  @Task({ name: 'race.parent' })
  parent(): string {
    ran.push('parent');
    return 'parent';
  }
}

it('a flow child whose claim is answered after its cancel arrived ends cancel and never runs', async () => {
  ran.length = 0;
  const app = (await tracker.make({ suite: 'rcr', concurrency: 2 })).register(RaceTasks);
  const writer = app.storage.recordWriter!;
  const transition = writer.transition.bind(writer);
  const abort = jest.spyOn(RabbitWorker.prototype, 'abort');
  let claimed: TaskRecord | undefined;
  let heard!: () => void;
  const cancelHeard = new Promise<void>((resolve) => (heard = resolve));
  // the child's claim is applied in the storage at once, its reply held until the worker heard the cancel
  writer.transition = async (id: string, from: readonly TaskStatus[], patch: RecordPatch, keep?: Parameters<typeof writer.transition>[3]) => {
    const rec = await transition(id, from, patch, keep);
    if (rec?.name === 'race.child' && patch.status === 'process' && claimed === undefined) {
      claimed = rec;
      await cancelHeard;
    }
    return rec;
  };
  await app.start();
  const wf = await app.run(flow({ name: 'race.parent', children: [{ name: 'race.child' }] }));
  await waitFor(() => claimed !== undefined, 'the child to be claimed');
  const childId = claimed!.id;
  expect(await wf.cancel('stop')).toBe(true);
  await waitFor(() => abort.mock.calls.some(([id]) => id === childId), 'the worker to hear the cancel');
  heard();

  await waitFor(async () => (await app.manager.get(childId))?.status === 'cancel', 'the child to end cancel', 10_000);
  expect(await wf.status()).toBe('cancel');
  // nothing runs late: the child's end is recorded once and stays
  await app.manager.pause();
  expect(ran).toEqual([]);
  expect((await app.manager.get(childId))?.status).toBe('cancel');
});

it('a flow parent cancelled while its start reads whether a child failed ends cancel and never runs', async () => {
  ran.length = 0;
  const app = (await tracker.make({ suite: 'rcr', concurrency: 2 })).register(RaceTasks);
  const storage = app.storage;
  const stateGet = storage.stateGet.bind(storage);
  let gated: string | undefined;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // the parent's start asks whether a child failed; that read is answered once the cancel was heard
  storage.stateGet = async (name: string, key: string) => {
    const value = await stateGet(name, key);
    if (key.endsWith(':failed') && gated === undefined) {
      gated = key;
      await released;
    }
    return value;
  };
  const abort = jest.spyOn(RabbitWorker.prototype, 'abort');
  await app.start();
  const wf = await app.run(flow({ name: 'race.parent', children: [{ name: 'race.child' }] }));
  await waitFor(() => gated !== undefined, 'the parent to start', 10_000);
  const parent = (await app.manager.list({ status: 'process' })).find((r) => r.name === 'race.parent');
  expect(parent).toBeDefined();
  expect(await wf.cancel('stop')).toBe(true);
  await waitFor(() => abort.mock.calls.some(([id]) => id === parent!.id), 'the worker to hear the cancel');
  release();

  await waitFor(async () => (await app.manager.get(parent!.id))?.status === 'cancel', 'the parent to end cancel', 10_000);
  await app.close();
  expect(ran).toEqual(['child']);
});
