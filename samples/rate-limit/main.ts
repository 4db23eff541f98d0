/**
 * Rate-limit sample: at most 2 starts of `api.call` in any 200 ms window (shared by every worker
 * of the queue on Redis), while an unlimited task runs meanwhile.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';

const starts: number[] = [];

class Api {
  @Task({ name: 'api.call', rateLimit: { max: 2, per: 200 } })
  call(n: number) {
    starts.push(Date.now());
    return n;
  }

  @Task({ name: 'local.work' })
  work() {
    return starts.length;
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  starts.length = 0;
  const app = new QTasks({ name: 'sample-rate-limit', discover: false, concurrency: 8, config: { logLevel: 'warn' } });
  app.register(Api);
  await app.start();
  const t0 = Date.now();
  const calls = await app.addTasks([1, 2, 3, 4, 5].map((n) => ({ name: 'api.call', args: [n] })));
  const startedBeforeLocal = await (await app.addTask<number>('local.work')).result({ timeout: 2_000 });
  const results = await Promise.all(calls.map((h) => h.result({ timeout: 5_000 })));
  const offsets = starts.map((t) => t - t0);
  log(`api.call started at ${offsets.join(', ')} ms; local.work ran after ${startedBeforeLocal} of them`);
  await app.close();
  return { results, offsets, startedBeforeLocal };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
