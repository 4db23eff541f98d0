/**
 * The Nest sample. `main()` runs it once (the sample tests do); as a script it serves until
 * SIGTERM/SIGINT: `PORT=3000 npx ts-node samples/nest/main.ts`, then
 * `curl -XPOST localhost:3000/tasks/greet -H 'content-type: application/json' -d '{"args":["Ada"]}'`.
 * SIGTERM/SIGINT close Nest, which closes qtasks (enableShutdownHooks).
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QTasks } from 'qtasks';
import { AppModule } from './app.module';

/** Creates and starts the Nest application on `port` (0: a free one). */
export async function bootstrap(port = 3000, host = '127.0.0.1'): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(port, host);
  return app;
}

/**
 * Runs the sample once: boots it on a free port, enqueues `greet` and `shout` through HTTP, reads
 * their results, closes, and returns what it saw.
 */
export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  const app = await bootstrap(0);
  try {
    const url = await app.getUrl();
    const results: Record<string, unknown> = {};
    for (const [name, arg] of [['greet', 'Ada'], ['shout', 'Bob']]) {
      const added = await fetch(`${url}/tasks/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args: [arg] }),
      });
      const { id } = (await added.json()) as { id: string };
      const read = (await (await fetch(`${url}/tasks/${encodeURIComponent(id)}?wait=5000`)).json()) as { status: string; result: unknown };
      log(`${name}(${arg}) ended ${read.status}: ${JSON.stringify(read.result)}`);
      results[name] = read.result;
    }
    return results;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  bootstrap(Number(process.env.PORT ?? 3000)).then(
    async (app) => {
      app.get(QTasks).on('worker:stop', () => console.log('qtasks worker stopped'));
      console.log(`nest sample listening on ${await app.getUrl()}`);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
