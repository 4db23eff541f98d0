/**
 * The TaskManager on Redis beyond the shared suite (which runs in the conformance suites): a
 * killed worker process drops out of workers() (REDIS_URL, default redis://127.0.0.1:6379).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { QTasks } from 'qtasks';
import { uniqueQueue, waitFor } from './helpers';
import { assertRedisReachable, prefix, REDIS_URL, redisEngine } from './redis-engine';

beforeAll(assertRedisReachable);

describe('TaskManager on Redis: a killed worker', () => {
  const queue = uniqueQueue('killed');
  let app: QTasks | undefined;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await app?.close();
    await redisEngine.cleanup(queue);
  });

  it('drops out of workers() once its heartbeat stops (kill -9)', async () => {
    const dist = join(__dirname, '..', '..', 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const options = { name: queue, redis: REDIS_URL, discover: false, config: { prefix, leaseMs: 1_000, logLevel: 'silent' } };
    const script = `const { QTasks } = require(${JSON.stringify(dist)});
      const app = new QTasks(${JSON.stringify(options)});
      app.start().then(() => console.log('ready'), (e) => { console.error(e); process.exit(1); });`;
    child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child!.on('exit', (code) => reject(new Error(`the worker process exited early (${code})`)));
    });
    app = redisEngine.make(queue, { discover: false, config: { leaseMs: 1_000, logLevel: 'silent' } });
    const seen = await waitFor('the child worker', async () => {
      const w = await app!.manager.workers();
      return w.length === 1 ? w[0] : undefined;
    });
    expect(seen.pid).toBe(child.pid);
    child.kill('SIGKILL');
    await waitFor('the killed worker to drop out', async () => (await app!.manager.workers()).length === 0, 10_000);
  });
});
