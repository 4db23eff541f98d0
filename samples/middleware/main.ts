/**
 * Middleware sample: a global timing middleware (built by the container, with the app logger), a
 * per-task memo that short-circuits, and a middleware that turns a transient error into a retry.
 */
import 'reflect-metadata';
import { Logger, Middleware, QTasks, RetryError, Task, TaskContext } from 'qtasks';

/** Times every task (global: `app.use`). */
@Middleware()
class Timing {
  static runs: string[] = [];
  constructor(private readonly logger: Logger) {}
  async handle(ctx: TaskContext, next: () => Promise<unknown>) {
    const t0 = Date.now();
    try {
      return await next();
    } finally {
      Timing.runs.push(ctx.name);
      this.logger.debug('task took', { task: ctx.name, ms: Date.now() - t0 });
    }
  }
}

/** Keeps the result of an argument-less task for a second and answers from it (a short-circuit). */
@Middleware()
class Memo {
  static readonly saved = new Map<string, { at: number; value: unknown }>();
  async handle(ctx: TaskContext, next: () => Promise<unknown>) {
    const hit = Memo.saved.get(ctx.name);
    if (hit && Date.now() - hit.at < 1_000) return hit.value;
    const value = await next();
    Memo.saved.set(ctx.name, { at: Date.now(), value });
    return value;
  }
}

class Transient extends Error {}

/** Turns a transient error into up to 3 retries, 10 ms apart. */
@Middleware()
class RetryTransient {
  async handle(_ctx: TaskContext, next: () => Promise<unknown>) {
    try {
      return await next();
    } catch (err) {
      if (err instanceof Transient) throw new RetryError({ cause: err, delay: 10, maxRetries: 3 });
      throw err;
    }
  }
}

let calls = 0;
let lookups = 0;

class Rates {
  @Task({ name: 'rate.latest', middlewares: [Memo] })
  latest() {
    lookups++;
    return { eur: 1.08 };
  }

  @Task({ name: 'rate.fetch', middlewares: [RetryTransient] })
  fetch() {
    calls++;
    if (calls < 3) throw new Transient('upstream busy');
    return 'fetched';
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  calls = 0;
  lookups = 0;
  Memo.saved.clear();
  Timing.runs = [];
  const app = new QTasks({ name: 'sample-middleware', discover: false, config: { logLevel: 'warn' } });
  app.register(Rates).use(Timing);
  await app.start();
  const first = await (await app.addTask('rate.latest')).result({ timeout: 2_000 });
  const second = await (await app.addTask('rate.latest')).result({ timeout: 2_000 });
  log(`rate.latest = ${JSON.stringify(second)}; the task body ran ${lookups} time(s) for 2 calls`);
  const h = await app.addTask('rate.fetch');
  const fetched = await h.result({ timeout: 2_000 });
  const attempts = (await app.getTask(h.id))?.attempt;
  log(`rate.fetch = ${fetched} after ${attempts} attempts`);
  await app.close();
  return { first, second, lookups, fetched, attempts, timed: Timing.runs.length };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
