/**
 * The web view's HTTP API, written over an engine (memory and Redis run it): reads, actions with
 * and without the token, unknown ids, refused actions, the event stream, a port in use, and close().
 */
import 'reflect-metadata';
import { request } from 'node:http';
import { QTasks, QTasksError, TASK_STATUSES } from 'qtasks';
import type { WebAddress } from '../../src/web';
import { gate, OpsTasks, runs } from './fixtures/ops-tasks';
import { collectEvents, OpsEngine, uniqueQueue, waitFor } from './helpers';

const TOKEN = 'test-token-123';

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** Declares the web API cases on `engine`. */
export function describeWebApi(engine: OpsEngine): void {
  describe(`web view API on ${engine.label}`, () => {
    let app: QTasks;
    let web: WebAddress;
    let queues: string[] = [];

    const call = async (method: string, path: string, token?: string | null, headers: Record<string, string> = {}): Promise<Reply> => {
      const h: Record<string, string> = { ...headers };
      if (token === undefined) h.authorization = `Bearer ${TOKEN}`;
      else if (token !== null) h.authorization = `Bearer ${token}`;
      const res = await fetch(new URL(path, web.url), { method, headers: h });
      return { status: res.status, body: (await res.json()) as Reply['body'] };
    };
    const record = (id: string) => app.manager.get(id);
    const final = (id: string) =>
      waitFor(`${id} to end`, async () => {
        const r = await record(id);
        return r && ['success', 'error', 'cancel'].includes(r.status) ? r : undefined;
      });

    beforeEach(async () => {
      gate.reset();
      runs.clear();
      const queue = uniqueQueue('web');
      queues = [queue];
      app = engine.make(queue, { discover: false, concurrency: 4, config: { logLevel: 'silent', shutdownTimeoutMs: 200 } });
      app.register(OpsTasks);
      await app.start();
      web = await app.web.listen({ port: 0, token: TOKEN, refreshMs: 50 });
    });

    afterEach(async () => {
      gate.open();
      await app.close();
      for (const q of queues) await engine.cleanup(q);
    });

    it('serves the page and the queue, read-only without the token', async () => {
      expect(web).toMatchObject({ host: '127.0.0.1', token: TOKEN, generatedToken: false });
      expect(web.url).toBe(`http://127.0.0.1:${web.port}/`);
      const page = await fetch(web.url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('id="tasks"');

      const anon = await call('GET', '/api/queue', null);
      expect(anon.status).toBe(200);
      expect(anon.body).toMatchObject({ queue: app.name, paused: false, canAct: false });
      expect((anon.body.workers as unknown[]).length).toBe(1);
      expect(Object.keys(anon.body.counts as object).sort()).toEqual([...TASK_STATUSES].sort());
      expect((await call('GET', '/api/queue')).body.canAct).toBe(true);
      expect((await call('GET', '/api/queue', 'wrong')).body.canAct).toBe(false);
    });

    it('lists tasks with filters and paging, and refuses bad queries', async () => {
      await app.manager.pause();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await app.addTask('ops.echo', [i])).id);
      const other = (await app.addTask('ops.fail', [])).id;
      const all = await call('GET', '/api/tasks', null);
      expect((all.body.tasks as { id: string }[]).map((t) => t.id)).toEqual([other, ...[...ids].reverse()]);
      const page = await call('GET', '/api/tasks?name=ops.echo&limit=2&offset=1', null);
      expect((page.body.tasks as { id: string }[]).map((t) => t.id)).toEqual([ids[1], ids[0]]);
      expect(((await call('GET', '/api/tasks?status=new,success', null)).body.tasks as unknown[]).length).toBe(4);
      expect(((await call('GET', '/api/tasks?status=error', null)).body.tasks as unknown[]).length).toBe(0);

      const badStatus = await call('GET', '/api/tasks?status=done', null);
      expect(badStatus.status).toBe(400);
      expect(badStatus.body.error?.code).toBe('QTASKS_ERR_WEB_BAD_REQUEST');
      expect((await call('GET', '/api/tasks?limit=0', null)).status).toBe(400);
      expect((await call('GET', '/api/tasks?since=yesterday', null)).status).toBe(400);
      const unknown = await call('GET', '/api/nothing', null);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error?.code).toBe('QTASKS_ERR_WEB_NOT_FOUND');
    });

    it('shows a task in detail: args, result, stream items, error and stack, log lines, attempts, parent and children', async () => {
      const stream = await app.addTask('ops.stream', [3]);
      const parent = await app.addTask('ops.parent', ['hi']);
      const failed = await app.addTask('ops.fail', ['always']);
      await stream.result({ timeout: 5_000 });
      expect(await parent.result({ timeout: 5_000 })).toBe('hi');
      await final(failed.id);

      const s = await call('GET', `/api/tasks/${stream.id}`, null);
      expect(s.status).toBe(200);
      expect(s.body).toMatchObject({ items: [0, 1, 2], itemCount: 3, children: [] });
      expect(s.body.task).toMatchObject({ id: stream.id, args: [3], returning: [0, 1, 2], status: 'success', attempt: 1 });

      const p = await call('GET', `/api/tasks/${encodeURIComponent(parent.id)}`, null);
      const children = p.body.children as { id: string; name: string; status: string }[];
      expect(children).toHaveLength(1);
      expect(children[0]).toMatchObject({ name: 'ops.echo', status: 'success' });
      const c = await call('GET', `/api/tasks/${encodeURIComponent(children[0].id)}`, null);
      expect(c.body.parent).toMatchObject({ id: parent.id, name: 'ops.parent' });

      const f = await call('GET', `/api/tasks/${failed.id}`, null);
      const error = (f.body.task as { error: { message: string; stack?: string } }).error;
      expect(error.message).toBe('ops.fail run 1');
      expect(error.stack).toContain('ops.fail run 1');
      expect(f.body.task).toMatchObject({
        logs: [{ attempt: 1, line: 'ops.fail run 1' }],
        attempts: [{ attempt: 1, status: 'error', error: { message: 'ops.fail run 1' } }],
      });

      const missing = await call('GET', '/api/tasks/no-such-task', null);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({ code: 'QTASKS_ERR_TASK_NOT_FOUND' });
    });

    it('needs the token for actions (401 without, 403 wrong) and changes nothing then', async () => {
      const failed = await app.addTask('ops.fail', ['once']);
      await final(failed.id);
      const none = await call('POST', `/api/tasks/${failed.id}/retry`, null);
      expect(none.status).toBe(401);
      expect(none.body.error?.code).toBe('QTASKS_ERR_WEB_UNAUTHORIZED');
      const wrong = await call('POST', `/api/tasks/${failed.id}/retry`, 'nope');
      expect(wrong.status).toBe(403);
      expect(wrong.body.error?.code).toBe('QTASKS_ERR_WEB_FORBIDDEN');
      expect((await call('DELETE', `/api/tasks/${failed.id}`, null)).status).toBe(401);
      expect((await call('POST', '/api/queue/pause', 'nope')).status).toBe(403);
      expect(await app.manager.isPaused()).toBe(false);
      expect(await record(failed.id)).toMatchObject({ status: 'error', attempt: 1 });
      expect(runs.get(failed.id)).toBe(1);

      const viaHeader = await call('POST', `/api/tasks/${failed.id}/retry`, null, { 'x-qtasks-token': TOKEN });
      expect(viaHeader.status).toBe(200);
      expect(await failed.result({ timeout: 5_000 })).toBe('ok on run 2');
    });

    it('answers 404 for unknown ids and 409 for actions a task cannot take, changing nothing', async () => {
      for (const [method, path] of [['POST', '/api/tasks/nope/retry'], ['POST', '/api/tasks/nope/cancel'], ['DELETE', '/api/tasks/nope']]) {
        const r = await call(method, path);
        expect(r.status).toBe(404);
        expect(r.body.error?.code).toBe('QTASKS_ERR_TASK_NOT_FOUND');
      }
      const done = await app.addTask('ops.echo', ['d']);
      await done.result({ timeout: 5_000 });
      for (const action of ['retry', 'cancel']) {
        const r = await call('POST', `/api/tasks/${done.id}/${action}`);
        expect(r.status).toBe(409);
        expect(r.body.error?.code).toBe('QTASKS_ERR_WEB_CONFLICT');
      }
      expect(await record(done.id)).toMatchObject({ status: 'success', attempt: 1, returning: 'd' });

      const running = await app.addTask('ops.block', []);
      await waitFor('block to run', async () => (await record(running.id))?.status === 'process');
      const rm = await call('DELETE', `/api/tasks/${running.id}`);
      expect(rm.status).toBe(409);
      expect((await record(running.id))?.status).toBe('process');
      expect((await call('POST', `/api/tasks/${running.id}/cancel?reason=ops`)).status).toBe(200);
      expect(await final(running.id)).toMatchObject({ status: 'cancel' });
      expect((await call('DELETE', `/api/tasks/${running.id}`)).status).toBe(200);
      expect(await record(running.id)).toBeUndefined();
      expect((await call('DELETE', `/api/tasks/${running.id}`)).status).toBe(404);
    });

    it('pauses, resumes and purges the queue', async () => {
      const paused = await call('POST', '/api/queue/pause');
      expect(paused.body).toMatchObject({ ok: true, paused: true });
      expect(await app.manager.isPaused()).toBe(true);
      const held = await app.addTask('ops.echo', ['held']);
      expect((await call('GET', '/api/queue', null)).body.paused).toBe(true);
      expect((await call('POST', '/api/queue/resume')).body).toMatchObject({ paused: false });
      expect(await held.result({ timeout: 5_000 })).toBe('held');

      for (let i = 0; i < 2; i++) await final((await app.addTask('ops.fail', [])).id);
      expect((await call('POST', '/api/queue/purge?status=process')).status).toBe(400);
      expect((await call('POST', '/api/queue/purge?status=waiting')).status).toBe(400);
      expect((await call('POST', '/api/queue/purge?status=error', null)).status).toBe(401);
      expect((await app.manager.counts()).error).toBe(2);
      expect((await call('POST', '/api/queue/purge?status=error')).body).toMatchObject({ removed: 2 });
      expect((await app.manager.counts()).error).toBe(0);
    });

    it('pushes the queue and task events live over server-sent events', async () => {
      const { events, ended } = collectEvents(new URL('/api/events', web.url).href);
      await waitFor('the first queue snapshot', () => events.some((e) => e.event === 'queue'));
      const h = await app.addTask('ops.echo', ['live']);
      const ev = await waitFor('the success event', () => events.find((e) => e.event === 'task' && e.data.id === h.id));
      expect(ev.data).toMatchObject({ type: 'task:success', name: 'ops.echo', status: 'success' });
      await waitFor('a snapshot counting it', () =>
        events.some((e) => e.event === 'queue' && (e.data.counts as Record<string, number>).success === 1),
      );
      await app.close();
      await ended; // close() ends the stream
    });

    it('refuses a port in use with a clear error, and close() frees the port', async () => {
      const otherQueue = uniqueQueue('web2');
      queues.push(otherQueue);
      const other = engine.make(otherQueue, { discover: false, config: { logLevel: 'silent' } });
      try {
        const err = await other.web.listen({ port: web.port }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(QTasksError);
        expect((err as QTasksError).code).toBe('QTASKS_ERR_WEB_PORT_IN_USE');
        expect(other.web.address).toBeUndefined();
        expect((await call('GET', '/api/queue', null)).status).toBe(200);
        const again = await app.web.listen({ port: web.port }).catch((e: unknown) => e);
        expect((again as QTasksError).code).toBe('QTASKS_ERR_INVALID_STATE');

        await app.close();
        await expect(fetch(web.url)).rejects.toThrow();
        const moved = await other.web.listen({ port: web.port });
        expect(moved.port).toBe(web.port);
        expect(moved.generatedToken).toBe(true);
        expect(moved.token.length).toBeGreaterThanOrEqual(20);
      } finally {
        await other.close();
      }
    });

    it('refuses a Host header naming another machine on a loopback server', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: web.port, path: '/api/queue', headers: { host: 'evil.example:80' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(403);
    });
  });
}
