/**
 * Timer sample: an interval timer, a cron timer with seconds and a time zone, and a task with
 * `@Task({ cron })`. Timers run while the app is started; with Redis and several workers each tick
 * is enqueued once.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';

const seen: string[] = [];

class Jobs {
  @Task({ name: 'heartbeat' })
  heartbeat(source: string) {
    seen.push(source);
  }

  /** Every second, with fixed arguments. */
  @Task({ name: 'cleanup', cron: { pattern: '* * * * * *', args: ['tmp'] } })
  cleanup(dir: string) {
    seen.push(`cleanup:${dir}`);
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  seen.length = 0;
  const app = new QTasks({ name: 'sample-timers', discover: false, config: { logLevel: 'warn' } });
  app.register(Jobs);
  app.timer.every(50, 'heartbeat', ['every']);
  app.timer.cron('* * * * * *', 'heartbeat', ['cron'], { timezone: 'Europe/Paris' });
  await app.start();
  const until = Date.now() + 3_000;
  while (!(seen.includes('cron') && seen.includes('cleanup:tmp') && seen.filter((s) => s === 'every').length >= 3) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await app.close();
  const counts = { every: seen.filter((s) => s === 'every').length, cron: seen.filter((s) => s === 'cron').length, cleanup: seen.filter((s) => s === 'cleanup:tmp').length };
  log(`ticks: ${JSON.stringify(counts)}`);
  return counts;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
