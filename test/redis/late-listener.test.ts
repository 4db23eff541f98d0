/**
 * A process that starts listening after it connected hears the next events of the queue at once,
 * not only after a periodic check (a web view opening its event stream, a dashboard subscribing).
 */
import 'reflect-metadata';
import { QTasks, Task, TaskRecord } from 'qtasks';
import { deleteKeys, ensureRedis, redisApp, sleep, testPrefix, waitFor } from './redis-support';

class LateTasks {
  @Task({ name: 'late.echo' })
  echo(v: unknown): unknown {
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

  it('receives the events of tasks another process finishes right after it subscribed', async () => {
    const worker = redisApp({ name: 'late', prefix });
    const watcher = redisApp({ name: 'late', prefix });
    apps.push(worker, watcher);
    worker.register(LateTasks);
    watcher.register(LateTasks);
    await worker.start();
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
});
