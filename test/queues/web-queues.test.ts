/**
 * The web view shows every queue: `/api/queues` lists them with counts, pause and workers, and the
 * queue views and actions take `?queue=` (an unknown one answers 404 QTASKS_ERR_UNKNOWN_QUEUE).
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';

const images = `wq-images-${process.pid}`;

@Task({ name: 'wq.resize', queue: images })
class Resize {
  run(w: number): number {
    return w * 2;
  }
}

@Task({ name: 'wq.plain' })
class Plain {
  run(): string {
    return 'ok';
  }
}

describe('web view of several queues', () => {
  let app: QTasks;
  let url: string;
  const TOKEN = 'queues-token';
  const call = async (method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(new URL(path, url), { method, headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeEach(async () => {
    app = new QTasks({ name: `wq-main-${process.pid}`, discover: false, queues: { [images]: { concurrency: 2 } }, config: { logLevel: 'silent' } });
    app.register(Resize, Plain);
    await app.start();
    url = (await app.web.listen({ port: 0, token: TOKEN })).url;
  });
  afterEach(() => app.close());

  it('lists every queue and reads and acts on one by ?queue=', async () => {
    const h = await app.addTask('wq.resize', [21]);
    expect(await h.result({ timeout: 2_000 })).toBe(42);
    await (await app.addTask('wq.plain')).result({ timeout: 2_000 });

    const all = await call('GET', '/api/queues');
    expect(all.status).toBe(200);
    const list = all.body.queues as { name: string; counts: Record<string, number>; paused: boolean; workers: { queues?: string[] }[] }[];
    expect(list.map((q) => q.name)).toEqual([app.name, images]);
    expect(list[1]).toMatchObject({ counts: { success: 1 }, paused: false });
    expect(list[1].workers.map((w) => w.queues)).toEqual([[images]]);

    const tasks = await call('GET', `/api/tasks?queue=${images}`);
    expect((tasks.body.tasks as { id: string }[]).map((t) => t.id)).toEqual([h.id]);
    const own = await call('GET', '/api/tasks');
    expect((own.body.tasks as { name: string }[]).map((t) => t.name)).toEqual(['wq.plain']);
    const view = await call('GET', `/api/queue?queue=${images}`);
    expect(view.body).toMatchObject({ queue: images, counts: { success: 1 }, paused: false });
    expect((await call('GET', `/api/tasks/${h.id}`)).body).toMatchObject({ task: { id: h.id, returning: 42 } });

    expect((await call('POST', `/api/queue/pause?queue=${images}`)).body).toMatchObject({ ok: true, paused: true });
    expect(await app.manager.isPaused(images)).toBe(true);
    expect(await app.manager.isPaused()).toBe(false);
    expect((await call('POST', `/api/queue/purge?status=success&queue=${images}`)).body).toMatchObject({ ok: true, removed: 1 });
    expect((await app.manager.counts()).success).toBe(1);

    const unknown = await call('GET', '/api/queue?queue=imagez');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'QTASKS_ERR_UNKNOWN_QUEUE' } });
    expect((await call('GET', '/api/tasks?queue=imagez')).status).toBe(404);
  });

  it('the page has a queue selector and a queues table', async () => {
    const page = await (await fetch(url)).text();
    expect(page).toContain('id="queue-select"');
    expect(page).toContain('id="queues"');
  });
});
