/**
 * Boots the Nest sample: `PORT=3000 npx ts-node samples/nest/main.ts`, then
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
