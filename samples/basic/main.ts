/**
 * Runs the basic sample: starts a worker in this process, enqueues a few tasks, prints their
 * results and closes. `npm start` runs this file.
 */
import 'reflect-metadata';
import { app } from './app';

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  await app.start();
  const sum = await (await app.addTask<number>('add', [1, 2])).result({ timeout: 1_000 });
  log(`add(1, 2) = ${sum}`);
  const upper = await (await app.addTask<string>('text.upper', ['hello qtasks'])).result();
  log(`text.upper = ${upper}`);
  const words = await (await app.addTask<number>('text.words', ['one two  three'])).result();
  log(`text.words = ${words}`);
  const countdown = await app.addTask<number[]>('countdown', [3]);
  const streamed: unknown[] = [];
  for await (const item of countdown.stream()) {
    streamed.push(item);
    log(`countdown yielded ${item}`);
  }
  const record = await app.getTask(countdown.id);
  log(`countdown ended ${record?.status} with ${JSON.stringify(record?.returning)}`);
  const counts = await app.manager.counts();
  await app.close();
  return { sum, upper, words, streamed, result: record?.returning, counts };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
