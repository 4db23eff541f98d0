/**
 * A Redis that cannot be reached: the error says where (the URL without its password) and why
 * (refused, unknown host) in `details`, and a URL of another scheme is refused at construction.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, QTasks, QTasksError, Task } from 'qtasks';

@Task({ name: 'unreach.noop' })
class Noop {
  run(): number {
    return 1;
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function addFails(redis: string): Promise<QTasksError> {
  const app = new QTasks({ name: `unreach-${process.pid}`, redis, discover: false, config: { connectTimeoutMs: 400, logLevel: 'silent' } });
  app.register(Noop);
  try {
    const err = await app.addTask('unreach.noop').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QTasksError);
    return err as QTasksError;
  } finally {
    await app.close();
  }
}

test('refused: the error names the URL without its password and the cause', async () => {
  const port = await closedPort();
  const err = await addFails(`redis://app:s3cret-pw@127.0.0.1:${port}/0`);
  expect(err.code).toBe(ErrorCodes.BROKER_UNAVAILABLE);
  expect(err.details).toMatchObject({ reason: 'refused', target: `redis://app:***@127.0.0.1:${port}/0` });
  expect(err.message).not.toContain('s3cret-pw');
  expect(err.message).toContain(`127.0.0.1:${port}`);
});

test('unknown host: the cause says the name does not resolve', async () => {
  const err = await addFails('redis://no-such-host.invalid:6379');
  expect(err.code).toBe(ErrorCodes.BROKER_UNAVAILABLE);
  expect(err.details).toMatchObject({ reason: 'unknown-host', target: 'redis://no-such-host.invalid:6379' });
});

test('a URL of another scheme is refused at construction with BAD_OPTION, its password hidden', () => {
  let err: unknown;
  try {
    new QTasks({ name: 'unreach-scheme', redis: 'postgres://u:pw-hidden@127.0.0.1:5432/db' });
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: ErrorCodes.BAD_OPTION });
  expect((err as Error).message).not.toContain('pw-hidden');
});
