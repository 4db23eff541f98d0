/**
 * Operations across processes on Redis: the built CLI enqueues (`add`, `add --file`), a `run`
 * process works the queue, `inspect` and the web view (`web`, another process) see the tasks and the
 * worker, `purge` removes them, and SIGTERM ends each process with exit 0.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { collectEvents, waitFor } from './helpers';
import { assertRedisReachable, REDIS_URL } from './redis-engine';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const PREFIX = `qt-test-cli-${process.pid}-${Date.now().toString(36)}`;
const ENV = { QTASKS_REDIS_URL: REDIS_URL, QTASKS_PREFIX: PREFIX, QTASKS_LOG_LEVEL: 'warn' };

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, '-A', 'samples/basic/app.ts', ...args], { cwd: ROOT, env: { ...process.env, ...ENV } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, done };
}

async function cli(args: string[]): Promise<{ code: number | null; json: Record<string, unknown>; err: string }> {
  const p = start(args);
  const code = await p.done;
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(p.out()) as Record<string, unknown>;
  } catch {
    // not JSON: left empty, the assertions say what was expected
  }
  return { code, json, err: p.err() };
}

describe('operations across processes on Redis', () => {
  const procs: Proc[] = [];
  let tmp: string;

  beforeAll(async () => {
    await assertRedisReachable();
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
    tmp = mkdtempSync(join(tmpdir(), 'qtasks-ops-'));
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${PREFIX}:*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  it('enqueues, inspects, serves, works, purges and stops', async () => {
    const one = await cli(['add', 'add', '[2, 3]']);
    expect(one.code).toBe(0);
    const file = join(tmp, 'tasks.json');
    writeFileSync(file, JSON.stringify([{ name: 'text.upper', args: ['a'] }, { name: 'text.words', args: ['a b c'] }, { name: 'add', args: [1, 1] }]));
    const bulk = await cli(['add', '--file', file]);
    expect(bulk.code).toBe(0);
    expect(bulk.json.added).toBe(3);

    const before = await cli(['inspect', '--json']);
    expect(before.json).toMatchObject({ queue: 'basic', workers: [] });
    expect((before.json.counts as Record<string, number>).new).toBe(4);

    const web = start(['web', '--port', '0', '--token', 'tok']);
    procs.push(web);
    const url = (await waitFor('the web view', () => /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(web.err())?.[1], 20_000)) as string;
    const listed = (await (await fetch(`${url}api/tasks?status=new`)).json()) as { tasks: { id: string }[] };
    expect(listed.tasks.map((t) => t.id)).toContain(one.json.id);

    const live = collectEvents(`${url}api/events`);
    // the stream's first snapshot means the web view listens (and so subscribes) before work starts
    await waitFor('the event stream to open', () => live.events.length > 0, 10_000);
    const run = start(['run']);
    procs.push(run);
    await waitFor('the tasks to succeed', async () => {
      const q = (await (await fetch(`${url}api/queue`)).json()) as { counts: Record<string, number>; workers: { pid: number }[] };
      return q.counts.success === 4 && q.workers.length === 1 && q.workers[0].pid === run.child.pid;
    }, 20_000);
    // the web view's process hears the worker's events through Redis
    await waitFor('a task event from the worker process', () => live.events.some((e) => e.event === 'task' && e.data.id === one.json.id), 10_000);
    live.stop();
    const detail = (await (await fetch(`${url}api/tasks/${one.json.id as string}`)).json()) as { task: { returning: unknown } };
    expect(detail.task.returning).toBe(5);

    const purged = await cli(['purge', 'success', '--json']);
    expect(purged.json).toMatchObject({ status: 'success', removed: 4 });
    expect(((await cli(['inspect', '--json'])).json.counts as Record<string, number>).success).toBe(0);

    run.child.kill('SIGTERM');
    web.child.kill('SIGTERM');
    expect(await run.done).toBe(0);
    expect(await web.done).toBe(0);
    expect((await cli(['inspect', '--json'])).json.workers).toEqual([]);
  }, 90_000);
  it('manages a worker in another process: pause, resize, resume, then stop makes its run exit 0', async () => {
    const run = start(['run']);
    procs.push(run);
    const listed = await waitFor('the worker to be listed', async () => {
      const r = await cli(['workers', 'list', '--json']);
      const list = JSON.parse(JSON.stringify(r.json)) as unknown;
      return Array.isArray(list) && list.length === 1 ? (list as { id: string; pid: number }[]) : undefined;
    }, 20_000);
    expect(listed[0].pid).toBe(run.child.pid);
    const id = listed[0].id;
    expect((await cli(['workers', 'pause', id, '--json'])).json).toMatchObject({ worker: id, action: 'pause' });
    const added = await cli(['add', 'add', '[20, 22]']);
    await new Promise((r) => setTimeout(r, 300));
    expect(((await cli(['inspect', '--json'])).json.counts as Record<string, number>).new).toBe(1);
    expect((await cli(['workers', 'concurrency', id, '3', '--json'])).code).toBe(0);
    expect((await cli(['workers', 'resume', id])).code).toBe(0);
    await waitFor('the held task to succeed', async () => ((await cli(['inspect', '--json'])).json.counts as Record<string, number>).success >= 1, 20_000);
    // the worker process's per-minute figures reach inspect in this one
    await waitFor('the per-minute figures', async () => {
      const stats = (await cli(['inspect', '--json'])).json.stats as { success: number }[] | undefined;
      return (stats ?? []).reduce((n, b) => n + b.success, 0) >= 1;
    }, 20_000);
    const after = (await cli(['inspect', '--json'])).json.workers as { id: string; concurrency: number; paused: boolean }[];
    expect(after[0]).toMatchObject({ id, concurrency: 3, paused: false });
    expect(added.code).toBe(0);
    const unknown = await cli(['workers', 'stop', 'no-such-worker']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('QTASKS_ERR_WORKER_NOT_FOUND');
    expect((await cli(['workers', 'stop', id])).code).toBe(0);
    expect(await run.done).toBe(0);
  }, 60_000);
});
