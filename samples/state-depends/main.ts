/**
 * Runs the state/depends sample.
 */
import 'reflect-metadata';
import { app, Pool, Transaction, Visits } from './app';

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  await app.start();
  const results = [];
  for (const page of ['home', 'about', 'home']) results.push(await (await app.addTask('visit', [page])).result());
  log(`visits: ${JSON.stringify(results)}`);
  const failed = await app.addTask('visit.fail');
  const failure = await failed.result().catch((e: { code?: string }) => e.code);
  log(`visit.fail ended with ${failure}`);
  const state = await app.state(Visits).all();
  log(`state: ${JSON.stringify(state)}`);
  await app.close();
  return { results, failure, state, pool: { opened: Pool.opened, closed: Pool.closed }, transactions: Transaction.log.length };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
