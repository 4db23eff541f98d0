/**
 * A thread task on the Redis engine: progress, nested tasks, shared state (compare-and-set through
 * the app's storage), streamed items and a timeout that stops it, as in memory.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks } from 'qtasks';
import { deleteKeys, ensureRedis, REDIS_URL, testPrefix } from '../redis/redis-support';
import { Double, Runs, threadTasks } from './fixtures/executor-tasks';

describe('thread executor on Redis', () => {
  const prefix = testPrefix('exec');
  let app: QTasks;

  beforeAll(async () => {
    await ensureRedis();
    app = new QTasks({ name: 'exec-redis', redis: REDIS_URL, discover: false, config: { prefix, threads: 1, logLevel: 'silent' } });
    app.register(...Object.values(threadTasks), Double, Runs);
    await app.start();
  });

  afterAll(async () => {
    await app?.close();
    await deleteKeys(prefix);
  });

  it('runs with its context, state and items through the Redis engine', async () => {
    const h = await app.addTask<Record<string, unknown>>('thread.context', [5]);
    expect(await h.result()).toMatchObject({ id: h.id, attempt: 1, doubled: 10, opened: true, last: 't' });
    expect((await app.getTask(h.id))?.progress).toEqual({ step: 1 });
    expect(await app.state(Runs).get('count')).toBe(1);
    const items = await app.addTask('thread.items', [2]);
    const seen: unknown[] = [];
    for await (const item of items.stream()) seen.push(item);
    expect(seen).toEqual([0, 10]);
  });

  it('stops a busy loop at its timeout', async () => {
    const h = await app.addTask('thread.busy');
    await expect(h.result()).rejects.toMatchObject({ cause: { code: ErrorCodes.TASK_TIMEOUT } });
  });
});
