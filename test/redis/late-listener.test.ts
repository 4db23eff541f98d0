/**
 * A process that starts listening after it connected hears the next events of the queue at once,
 * not only after a periodic check (a web view opening its event stream, a dashboard subscribing).
 */
import 'reflect-metadata';
import { QTasks, Task, TaskRecord } from 'qtasks';
import { deleteKeys, ensureRedis, redisApp, sleep, testPrefix, waitFor } from './redis-support';

let gate: Promise<void> = Promise.resolve();

class LateTasks {
  @Task({ name: 'late.echo' })
  echo(v: unknown): unknown {
    return v;
  }

  @Task({ name: 'late.gated' })
  async gated(v: unknown): Promise<unknown> {
    await gate;
    return v;
  }
}

describe('Redis: a listener added after connecting', () => {
  const prefix = testPrefix('late');
  const apps: QTasks[] = [];

  beforeAll(async () => {
    await ensureRedis();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await deleteKeys(prefix);
  });

  /** A started worker and a second app (another process, as far as the queue can tell) on one queue. */
  async function workerAndWatcher(): Promise<{ worker: QTasks; watcher: QTasks }> {
    const worker = redisApp({ name: 'late', prefix }).register(LateTasks);
    const watcher = redisApp({ name: 'late', prefix }).register(LateTasks);
    apps.push(worker, watcher);
    await worker.start();
    return { worker, watcher };
  }

  it('receives the events of tasks another process finishes right after it subscribed', async () => {
    const { worker, watcher } = await workerAndWatcher();
    await watcher.getTask('nothing-yet'); // connected, nobody listening yet
    const seen: TaskRecord[] = [];
    watcher.on('task:success', ({ record }) => seen.push(record));
    await sleep(50); // one subscribe round trip, far below the periodic check
    const h = await worker.addTask('late.echo', ['hi']);
    expect(await h.result({ timeout: 2_000 })).toBe('hi');
    await waitFor(() => seen.some((r) => r.id === h.id), 'the watcher to hear the end', 2_000);
    expect(seen.filter((r) => r.id === h.id)).toHaveLength(1);
    expect(seen.find((r) => r.id === h.id)?.returning).toBe('hi');
  });

  it('hears an end a worker records after it found nobody else listening a moment ago', async () => {
    const { worker, watcher } = await workerAndWatcher();
    // the worker's process listens alone: its finish calls learn that nobody else does
    for (let i = 0; i < 3; i++) expect(await (await worker.addTask('late.echo', [i])).result({ timeout: 5_000 })).toBe(i);
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const h = await worker.addTask('late.gated', ['late']);
    // the watcher subscribes, finds the task running and waits for its end on the channel
    const waiting = watcher.handle(h.id).result({ timeout: 2_000 });
    await sleep(300);
    open();
    // heard on the channel, well before the periodic re-read (3 s)
    expect(await waiting).toBe('late');
  });
});
