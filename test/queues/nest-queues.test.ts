/**
 * NestJS with named queues: `forRoot({ queues })` makes one app consume several queues, each task
 * provider's `@Task({ queue })` routed to its queue; `registerQueue` apps consume their own queue,
 * not the root app's named queues.
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { QTasks, Task } from 'qtasks';
import { getQueueToken, QTasksModule } from 'qtasks/nest';

describe('qtasks/nest with named queues', () => {
  let ref: TestingModule | undefined;
  afterEach(async () => {
    await ref?.close();
    ref = undefined;
  });

  it('one Nest app consumes several queues; a registered queue consumes only its own', async () => {
    const pid = process.pid;
    const [main, emails, images, reports] = ['nq-main', 'nq-emails', 'nq-images', 'nq-reports'].map((n) => `${n}-${pid}`);

    @Injectable()
    class MediaTasks {
      @Task({ name: 'nq.mail', queue: emails })
      mail(to: string): string {
        return `mailed ${to}`;
      }

      @Task({ name: 'nq.resize', queue: images })
      resize(w: number): number {
        return w / 2;
      }
    }

    ref = await Test.createTestingModule({
      imports: [
        QTasksModule.forRoot({ name: main, discover: false, queues: { [emails]: { concurrency: 3 }, [images]: { concurrency: 1 } }, config: { logLevel: 'silent' } }),
        QTasksModule.registerQueue(reports),
      ],
      providers: [MediaTasks],
    }).compile();
    await ref.init();
    const app = ref.get(QTasks);
    const a = await app.addTask('nq.mail', ['x@y']);
    const b = await app.addTask('nq.resize', [640]);
    expect(await a.result({ timeout: 5_000 })).toBe('mailed x@y');
    expect(await b.result({ timeout: 5_000 })).toBe(320);
    expect((await app.manager.list({ queue: emails })).map((r) => r.id)).toEqual([a.id]);
    expect((await app.manager.list({ queue: images })).map((r) => r.id)).toEqual([b.id]);
    const workers = await app.manager.workers();
    expect(Object.fromEntries(workers.map((w) => [w.queues?.[0], w.concurrency]))).toMatchObject({ [main]: 10, [emails]: 3, [images]: 1 });

    const reportsApp = ref.get<QTasks>(getQueueToken(reports));
    expect(reportsApp.name).toBe(reports);
    expect((await reportsApp.manager.workers()).map((w) => w.queues)).toEqual([[reports]]);
  });
});
