/**
 * The NestJS sample on Redis survives hostile request bodies: an argument nested thousands of
 * levels deep (a 6 KB POST) is refused with QTASKS_ERR_NOT_SERIALIZABLE and the server goes on.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { bootstrap } from '../../samples/nest/main';
import { deleteKeys, ensureRedis, REDIS_URL, testPrefix } from '../redis/redis-support';

describe('NestJS sample on Redis, hostile bodies', () => {
  const prefix = testPrefix('nd');
  const saved = { url: process.env.QTASKS_REDIS_URL, prefix: process.env.QTASKS_PREFIX };
  let nest: INestApplication | undefined;

  beforeAll(async () => {
    await ensureRedis();
    process.env.QTASKS_REDIS_URL = REDIS_URL;
    process.env.QTASKS_PREFIX = prefix;
    nest = await bootstrap(0);
  });

  afterAll(async () => {
    await nest?.close();
    for (const [key, value] of [['QTASKS_REDIS_URL', saved.url], ['QTASKS_PREFIX', saved.prefix]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await deleteKeys(prefix);
  });

  it('refuses an argument nested 3,000 levels deep and keeps serving', async () => {
    const { port } = (nest!.getHttpServer() as { address(): AddressInfo }).address();
    const base = `http://127.0.0.1:${port}`;
    const deep = '{"a":'.repeat(3_000) + '1' + '}'.repeat(3_000);
    const bad = await fetch(`${base}/tasks/greet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"args":[${deep}]}` });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'QTASKS_ERR_NOT_SERIALIZABLE' });
    const ok = await fetch(`${base}/tasks/greet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"args":["Ada"]}' });
    expect(ok.status).toBe(201);
    const { id } = (await ok.json()) as { id: string };
    const res = await fetch(`${base}/tasks/${encodeURIComponent(id)}?wait=5000`);
    expect(await res.json()).toMatchObject({ status: 'success', result: 'Hello, Ada!' });
  });
});
