/**
 * The web view against a hostile or careless outside: Host headers of DNS-rebinding pages, event
 * stream clients that never read or come in too many, and records the engine cannot fully read.
 */
import 'reflect-metadata';
import { request } from 'node:http';
import { connect, Socket } from 'node:net';
import { QTasks, QTasksError, Task, TaskContext } from 'qtasks';
import { FLAGGED, GARBLED, PoisonedStorage } from './fixtures/poisoned-storage';
import { collectEvents, uniqueQueue, waitFor } from './helpers';

const silent = { logLevel: 'silent' as const, shutdownTimeoutMs: 200 };

/** Status and body of a GET sent with exactly this Host header (none when undefined). */
function getWithHost(port: number, path: string, host: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, setHost: false, headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The status `GET /api/events` is answered with (the stream, if opened, is closed at once). */
function eventsStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens `GET /api/events` on a raw socket and never reads it. */
function silentClient(port: number): Socket {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  sock.pause();
  return sock;
}

class Noisy {
  /** Reports `n` progress values of `size` characters, letting I/O run between them unless `tight`. */
  @Task({ name: 'web.noisy' })
  async run(ctx: TaskContext, n: number, size: number, tight = false): Promise<number> {
    for (let i = 0; i < n; i++) {
      await ctx.progress({ i, pad: 'x'.repeat(size) });
      if (!tight) await new Promise((r) => setImmediate(r));
    }
    return n;
  }
}

describe('web view hardening', () => {
  const apps: QTasks[] = [];
  const sockets: Socket[] = [];
  const make = (options: ConstructorParameters<typeof QTasks>[0] = {}) => {
    const app = new QTasks({ name: uniqueQueue('harden'), discover: false, ...options, config: { ...silent, ...options.config } });
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const app of apps.splice(0)) await app.close();
  });

  it('answers only the bound address and localhost names with the bound port (DNS rebinding gets 403)', async () => {
    const app = make();
    const { port, url, host, token } = await app.web.listen({ port: 0, token: 't' });
    expect({ url, host, port, token }).toEqual({ url: `http://127.0.0.1:${port}/`, host: '127.0.0.1', port, token: 't' });
    for (const ok of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      expect([ok, (await getWithHost(port, '/api/queue', ok)).status]).toEqual([ok, 200]);
    }
    const refused = [
      `127.attacker.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.attacker.example:${port}`, `evil.example:${port}`,
      `127.0.0.2:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', 'localhost', `localhost.:${port}`, `127.0.0.1:${port}@evil.example`,
      `127.0.0.1:0${port}x`, '',
    ];
    for (const bad of refused) {
      const reply = await getWithHost(port, '/api/queue', bad);
      expect([bad, reply.status]).toEqual([bad, 403]);
      expect(JSON.parse(reply.body).error.code).toBe('QTASKS_ERR_WEB_FORBIDDEN');
      expect(reply.body).not.toContain(app.name);
    }
    // without a Host header Node's HTTP/1.1 parser already answers 400
    const noHost = await getWithHost(port, '/api/queue', undefined);
    expect([400, 403]).toContain(noHost.status);
    expect(noHost.body).not.toContain(app.name);
    expect((await getWithHost(port, '/', `127.attacker.example:${port}`)).status).toBe(403);
    expect((await getWithHost(port, '/api/events', `127.0.0.1.nip.io:${port}`)).status).toBe(403);
  });

  it('answers the names in web.allowedHosts, from the app options or from listen()', async () => {
    const app = make({ web: { allowedHosts: ['queue.example.com', 'Proxy.Example:8443'] } });
    const { port } = await app.web.listen({ port: 0 });
    for (const ok of ['queue.example.com', 'queue.example.com:443', 'QUEUE.example.com', 'proxy.example:8443', `localhost:${port}`]) {
      expect([ok, (await getWithHost(port, '/api/queue', ok)).status]).toEqual([ok, 200]);
    }
    for (const bad of ['proxy.example', 'proxy.example:8444', 'x.queue.example.com', 'queue.example.com.evil']) {
      expect([bad, (await getWithHost(port, '/api/queue', bad)).status]).toEqual([bad, 403]);
    }
    await app.web.close();
    const again = await app.web.listen({ port: 0, allowedHosts: ['other.example'] });
    expect((await getWithHost(again.port, '/api/queue', 'other.example')).status).toBe(200);
    expect((await getWithHost(again.port, '/api/queue', 'queue.example.com')).status).toBe(403);
  });

  it('answers this machine\'s addresses when bound to every interface, and nothing else', async () => {
    const app = make();
    const { port, host } = await app.web.listen({ port: 0, host: '0.0.0.0' });
    expect(host).toBe('0.0.0.0');
    expect((await getWithHost(port, '/api/queue', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await getWithHost(port, '/api/queue', `0.0.0.0:${port}`)).status).toBe(200);
    expect((await getWithHost(port, '/api/queue', `rebind.example:${port}`)).status).toBe(403);
  });

  it('refuses web options it cannot use, naming them', async () => {
    const app = make();
    for (const bad of [{ allowedHosts: 'x.example' }, { allowedHosts: ['a b'] }, { allowedHosts: [''] }, { maxClients: 0 }, { maxClients: 1.5 }, { prot: 80 }]) {
      const err = await app.web.listen({ port: 0, ...(bad as object) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QTasksError);
      expect((err as QTasksError).code).toBe('QTASKS_ERR_BAD_OPTION');
      expect(app.web.address).toBeUndefined();
    }
    for (const web of [{ allowedHost: ['x.example'] }, 'x.example']) {
      let thrown: unknown;
      try {
        make({ web: web as never });
      } catch (err) {
        thrown = err;
      }
      expect((thrown as QTasksError).code).toBe('QTASKS_ERR_BAD_OPTION');
    }
  });

  it('caps event-stream clients at web.maxClients (503 beyond) and frees a place when one leaves', async () => {
    const app = make({ web: { maxClients: 2 } });
    const { url, port } = await app.web.listen({ port: 0 });
    const a = collectEvents(new URL('/api/events', url).href);
    const b = collectEvents(new URL('/api/events', url).href);
    await waitFor('two streams', () => a.events.length > 0 && b.events.length > 0);
    const busy = await getWithHost(port, '/api/events', `127.0.0.1:${port}`);
    expect(busy.status).toBe(503);
    expect(JSON.parse(busy.body).error.code).toBe('QTASKS_ERR_WEB_BUSY');
    expect((await getWithHost(port, '/api/queue', `127.0.0.1:${port}`)).status).toBe(200);
    a.stop();
    await waitFor('a free place', async () => (await eventsStatus(port)) === 200);
    b.stop();
  });

  it('drops clients that do not read, keeps those that do, and their places come free', async () => {
    const app = make({ web: { maxClients: 3 } });
    app.register(Noisy);
    await app.start();
    const { url, port } = await app.web.listen({ port: 0 });
    const reader = collectEvents(new URL('/api/events', url).href);
    await waitFor('the reader to be served', () => reader.events.length > 0);
    sockets.push(silentClient(port), silentClient(port));
    await waitFor('the cap to be reached', async () => (await eventsStatus(port)) === 503);

    // ~48 MB of events: far more than socket buffers and the server's per-client allowance hold
    const h = await app.addTask('web.noisy', [1_500, 32_000]);
    expect(await h.result({ timeout: 60_000 })).toBe(1_500);
    await waitFor('the reader to get the last progress', () =>
      reader.events.some((e) => e.event === 'task' && (e.data.progress as { i?: number } | undefined)?.i === 1_499), 30_000);
    await waitFor('the success event', () => reader.events.some((e) => e.event === 'task' && e.data.type === 'task:success' && e.data.id === h.id), 30_000);

    // the two silent clients were dropped: two new streams fit beside the reader
    const late = [collectEvents(new URL('/api/events', url).href), collectEvents(new URL('/api/events', url).href)];
    await waitFor('both late clients to be served', () => late.every((l) => l.events.length > 0), 10_000);
    for (const l of late) l.stop();
    reader.stop();
  }, 120_000);

  it('drops clients that do not read even when events come faster than the event loop turns', async () => {
    const app = make({ web: { maxClients: 2 } });
    app.register(Noisy);
    await app.start();
    // no snapshots meanwhile: only the events themselves can get the silent clients dropped
    const { url, port } = await app.web.listen({ port: 0, refreshMs: 600_000 });
    sockets.push(silentClient(port), silentClient(port));
    await waitFor('the cap to be reached', async () => (await eventsStatus(port)) === 503);
    // ~32 MB of progress events, all within microtasks: nothing may pile up waiting for the turn to end
    const h = await app.addTask('web.noisy', [1_000, 32_000, true]);
    expect(await h.result({ timeout: 60_000 })).toBe(1_000);
    const late = [collectEvents(new URL('/api/events', url).href), collectEvents(new URL('/api/events', url).href)];
    await waitFor('both late clients to be served', () => late.every((l) => l.events.length > 0), 5_000);
    for (const l of late) l.stop();
  }, 120_000);

  it('serves the list and the detail when the engine could only partly read a record', async () => {
    const app = make({ storage: new PoisonedStorage() });
    app.register(Noisy);
    const good = await app.addTask('web.noisy', [0, 0]);
    const { port } = await app.web.listen({ port: 0 });
    const get = async (path: string) => {
      const r = await getWithHost(port, path, `127.0.0.1:${port}`);
      return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
    };
    const list = await get('/api/tasks');
    expect(list.status).toBe(200);
    expect((list.body.tasks as { id: string }[]).map((t) => t.id)).toEqual([FLAGGED.id, GARBLED.id, good.id]);
    for (const bad of [FLAGGED, GARBLED]) {
      const detail = await get(`/api/tasks/${bad.id}`);
      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({ task: bad, items: [], itemCount: 0, children: [], problems: [{ part: 'items', code: 'QTASKS_ERR_BAD_RECORD' }] });
    }
    expect((await get(`/api/tasks/${good.id}`)).body).toMatchObject({ task: { id: good.id, name: 'web.noisy' } });
  });
});
