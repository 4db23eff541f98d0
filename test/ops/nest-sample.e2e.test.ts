/**
 * Boots the NestJS sample (samples/nest) on a free port, enqueues through its HTTP route, reads the
 * result back, and closes it (which closes qtasks).
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { QTasks } from 'qtasks';
import { GreeterService } from '../../samples/nest/greeter.service';
import { bootstrap } from '../../samples/nest/main';

describe('NestJS sample', () => {
  let nest: INestApplication | undefined;
  let base: string;

  beforeEach(async () => {
    nest = await bootstrap(0);
    const { port } = (nest.getHttpServer() as { address(): AddressInfo }).address();
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await nest?.close();
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('enqueues through HTTP and reads the result, with Nest-injected providers', async () => {
    const greet = await post('/tasks/greet', { args: ['Ada'] });
    expect(greet.status).toBe(201);
    const id = greet.body.id as string;
    const res = await fetch(`${base}/tasks/${encodeURIComponent(id)}?wait=5000`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, name: 'greet', status: 'success', result: 'Hello, Ada!' });

    const shout = await post('/tasks/shout', { args: ['Bob'] });
    const shouted = await fetch(`${base}/tasks/${encodeURIComponent(shout.body.id as string)}?wait=5000`);
    expect(await shouted.json()).toMatchObject({ status: 'success', result: 'HELLO, BOB!' });
    // both tasks ran on the singleton Nest built
    expect(nest!.get(GreeterService).count()).toBe(2);
  });

  it('answers clearly for an unknown task name or id', async () => {
    const bad = await post('/tasks/no.such.task', {});
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'QTASKS_ERR_TASK_NOT_FOUND' });
    expect((await fetch(`${base}/tasks/nope`)).status).toBe(404);
  });

  it('closes qtasks when Nest closes', async () => {
    const app = nest!.get(QTasks);
    expect(await app.manager.workers()).toHaveLength(1);
    await nest!.close();
    nest = undefined;
    expect(app.isClosed).toBe(true);
  });
});

describe('NestJS sample as a process', () => {
  it('closes qtasks on SIGTERM (enableShutdownHooks)', async () => {
    const root = join(__dirname, '..', '..');
    if (!existsSync(join(root, 'dist', 'nest', 'index.js'))) throw new Error('dist/nest is missing: run "npm run build" first (npm test does)');
    const child = spawn(process.execPath, ['-r', 'ts-node/register', 'samples/nest/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', TS_NODE_TRANSPILE_ONLY: '1', QTASKS_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      const url = await waitForLine(() => out, /listening on (http:\/\/\S+)/);
      const res = await fetch(`${url.replace('[::1]', '127.0.0.1')}/tasks/greet`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args: ['Eve'] }),
      });
      const { id } = (await res.json()) as { id: string };
      const read = await fetch(`${url}/tasks/${encodeURIComponent(id)}?wait=5000`);
      expect(await read.json()).toMatchObject({ status: 'success', result: 'Hello, Eve!' });
      child.kill('SIGTERM');
      const end = await ended;
      // Nest re-raises the signal after closing: the process ends by SIGTERM (or exits 0)
      expect(end.signal === 'SIGTERM' || end.code === 0).toBe(true);
      expect(out).toContain('qtasks worker stopped');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

async function waitForLine(get: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(get());
    if (m) return m[1];
    if (Date.now() > end) throw new Error(`No ${pattern} within ${timeoutMs} ms; output:\n${get()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('NestJS sample main()', () => {
  it('runs once end to end and returns the results', async () => {
    const { main } = await import('../../samples/nest/main');
    expect(await main(() => undefined)).toEqual({ greet: 'Hello, Ada!', shout: 'HELLO, BOB!' });
  });
});
