/**
 * Property tests of the web API's input handling: any query string of `GET /api/tasks` parses to a
 * list query or is refused with a 400 `QTASKS_ERR_WEB_BAD_REQUEST`, never anything else; over HTTP,
 * any query or path gives a JSON answer with a status below 500; any Host header is answered or
 * refused without a throw, and no name but the allowed ones is answered.
 */
import 'reflect-metadata';
import { request } from 'node:http';
import fc from 'fast-check';
import { QTasks } from 'qtasks';
import { HttpError } from '../../src/web/http-error';
import { createHostCheck } from '../../src/web/host-check';
import { MAX_LIMIT, parseListQuery } from '../../src/web/list-query';
import { TASK_STATUSES } from '../../src/task/task-record';
import { OpsTasks } from './fixtures/ops-tasks';
import { uniqueQueue } from './helpers';

const KEYS = ['status', 'name', 'since', 'until', 'limit', 'offset', 'other', 'status[]', ''];

/** Values that sit near the edges of what each parameter takes. */
const edgy = fc.oneof(
  fc.constantFrom('0', '1', '-1', '50', '1000', '1001', '1e3', '0x10', ' 5', '+5', '9007199254740991', '9007199254740992', '99999999999999999999',
    'NaN', 'Infinity', '2026-01-01', '2026-13-45', 'yesterday', '8640000000000001', ',', 'new,,success', 'new,bogus', '__proto__', 'constructor',
    '%', '%E0%A4%A', '%00', '\u0000', '\ud800', '日本', ''),
  fc.constantFrom(...TASK_STATUSES),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string(),
  fc.string({ unit: 'binary' }),
);

/** Raw query strings: well-formed pairs of known keys, and arbitrary text. */
const rawQuery = fc.oneof(
  fc.array(fc.tuple(fc.constantFrom(...KEYS), edgy), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${sendable(v, '#&=')}`).join('&')),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.string({ maxLength: 12 })), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
);

/**
 * Percent-encodes the bytes of `v` that an HTTP client cannot send raw (and those in `also`), keeping
 * every other character, stray `%` included, as it is.
 */
function sendable(v: string, also = '#'): string {
  return Array.from(Buffer.from(v.replace(/[\ud800-\udfff]/g, '\ufffd'), 'utf8'))
    .map((b) => (b > 0x20 && b < 0x7f && !also.includes(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`))
    .join('');
}

/** The path the server answers for request target `path` (`.` and `..` resolved), or undefined when it does not parse. */
function resolvedPath(path: string): string | undefined {
  try {
    return new URL(`http://localhost${path}`).pathname;
  } catch {
    return undefined;
  }
}

describe('web API input, for any input', () => {
  it('parses any query string to a valid list query or refuses it with a 400 and a code', () => {
    fc.assert(
      fc.property(rawQuery, (raw) => {
        const params = new URL(`http://localhost/api/tasks?${raw}`).searchParams;
        let query: ReturnType<typeof parseListQuery>;
        try {
          query = parseListQuery(params);
        } catch (err) {
          expect(err).toBeInstanceOf(HttpError);
          expect((err as HttpError).status).toBe(400);
          expect((err as HttpError).code).toBe('QTASKS_ERR_WEB_BAD_REQUEST');
          return;
        }
        expect(Number.isSafeInteger(query.limit) && query.limit >= 1 && query.limit <= MAX_LIMIT).toBe(true);
        expect(Number.isSafeInteger(query.offset) && query.offset >= 0).toBe(true);
        for (const s of query.status === undefined ? [] : [query.status].flat()) expect(TASK_STATUSES).toContain(s);
        for (const t of [query.since, query.until]) if (t !== undefined) expect(Number.isFinite(t) && Math.abs(t) <= 8.64e15).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('answers a Host check for any header without throwing, and only the allowed names pass', () => {
    const check = createHostCheck({ boundHost: '127.0.0.1', port: 7420, allowedHosts: ['queue.example.com'] });
    const allowed = new Set(['127.0.0.1:7420', 'localhost:7420', '[::1]:7420', 'queue.example.com']);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.domain(), fc.tuple(fc.domain(), fc.nat(70_000)).map(([d, p]) => `${d}:${p}`)), (host) => {
        const ok = check(host);
        expect(typeof ok).toBe('boolean');
        const normal = host.trim().toLowerCase();
        if (ok) expect(allowed.has(normal) || normal.startsWith('queue.example.com:')).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  describe('over HTTP', () => {
    let app: QTasks;
    let port: number;

    beforeAll(async () => {
      app = new QTasks({ name: uniqueQueue('fuzz'), discover: false, config: { logLevel: 'silent', shutdownTimeoutMs: 200 } });
      app.register(OpsTasks);
      await app.addTask('ops.echo', ['one']);
      port = (await app.web.listen({ port: 0 })).port;
    });
    afterAll(() => app.close());

    const send = (method: string, path: string) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            // `..` segments resolve like a browser's: /api/.. is the page
            if (String(res.headers['content-type']).startsWith('text/html') && res.statusCode === 200) return resolve({ status: 200, body: undefined });
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
            } catch {
              reject(new Error(`${method} ${path} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
            }
          });
        });
        req.on('error', reject);
        req.end();
      });

    it('answers any list query with 200 or a 400 carrying a code', async () => {
      await fc.assert(
        fc.asyncProperty(rawQuery, async (raw) => {
          const { status, body } = await send('GET', `/api/tasks?${sendable(raw)}`);
          expect([200, 400]).toContain(status);
          if (status === 400) expect(body).toMatchObject({ error: { code: 'QTASKS_ERR_WEB_BAD_REQUEST' } });
          else expect(Array.isArray((body as { tasks: unknown }).tasks)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('answers any path under /api with a JSON status below 500', async () => {
      const segment = fc.oneof(fc.constantFrom('api', 'tasks', 'queue', 'events', 'retry', 'cancel', 'pause', 'purge', '%E0%A4%A', '%', '..', ''), fc.string({ maxLength: 10 }));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), fc.array(segment, { maxLength: 4 }), async (method, parts) => {
          const path = `/api/${parts.map((p) => sendable(p, '#?/')).join('/')}`;
          // the event stream never ends: skip it, also when `.` and `..` segments lead there (the
          // server resolves them as a browser does)
          if (method === 'GET' && resolvedPath(path) === '/api/events') return;
          const { status, body } = await send(method, path);
          expect(status).toBeLessThan(500);
          if (status >= 400) expect(typeof (body as { error: { code: unknown } }).error.code).toBe('string');
        }),
        { numRuns: 300 },
      );
    });
  });
});
