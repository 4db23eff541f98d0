/**
 * Runs the executors sample: a CPU-bound task in a thread while the app's event loop keeps
 * ticking, a runaway loop stopped by its timeout, and a task in a child process.
 */
import 'reflect-metadata';
import { QTasks } from 'qtasks';
import { Hash, Runaway, Where } from './tasks';

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  const app = new QTasks({ name: 'executors', discover: false, config: { threads: 1, processes: 1 } });
  app.register(Hash, Runaway, Where);
  await app.start();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    const hash = await (await app.addTask<string>('hash', ['qtasks', 200_000])).result();
    log(`hash = ${hash}; the event loop ticked ${ticks} times meanwhile`);
    const runaway = await app.addTask('runaway');
    const stopped = await runaway.result().catch((err: { cause?: { code?: string } }) => err.cause?.code);
    log(`runaway ended with ${stopped}`);
    const pid = await (await app.addTask<number>('where')).result();
    log(`where ran in process ${pid} (the app is ${process.pid})`);
    return { hash, ticks, stopped, otherProcess: pid !== process.pid };
  } finally {
    clearInterval(timer);
    await app.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
