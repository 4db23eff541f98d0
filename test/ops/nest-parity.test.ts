/**
 * `qtasks/nest`, what @nestjs/bullmq users look for: several queues (registerQueue) with
 * @InjectQueue, @OnTaskEvent methods on providers, a terminus-shaped health indicator, and
 * dependencies of tasks Nest did not build resolved through Nest — or a bootstrap error naming
 * the one Nest cannot resolve.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { AppEventMap, ErrorCodes, QTasks, Task, TaskContext } from 'qtasks';
import { InjectQueue, OnTaskEvent, QTasksHealthError, QTasksHealthIndicator, QTasksModule, QTasksQueues } from 'qtasks/nest';
import { uniqueQueue } from './helpers';

@Injectable()
class Greeter {
  greet(who: string): string {
    return `hello ${who}`;
  }
}

/** Known to no module. */
@Injectable()
class Unprovided {}

@Injectable()
class ParityTasks {
  @Task({ name: 'np.echo' })
  echo(value: string): string {
    return value;
  }
}

/** Not a provider: given in forRoot({ tasks }), its needs come from Nest. */
@Task({ name: 'np.greet' })
class GreetTask {
  constructor(private readonly greeter: Greeter) {}
  run(who: string): string {
    return this.greeter.greet(who);
  }
}

/** Method form, not a provider: its Greeter parameter comes from Nest. */
class GreetMethods {
  @Task({ name: 'np.greet2' })
  greet(ctx: TaskContext, greeter: Greeter, who: string): string {
    return `${greeter.greet(who)}#${ctx.attempt}`;
  }
}

@Task({ name: 'np.broken' })
class BrokenTask {
  constructor(readonly missing: Unprovided) {}
  run(): string {
    return 'never';
  }
}

@Injectable()
class Sender {
  constructor(
    @InjectQueue('emails') readonly emails: QTasks,
    @InjectQueue('images') readonly images: QTasks,
  ) {}
}

@Injectable()
class Audit {
  readonly all: string[] = [];
  readonly emails: string[] = [];
  @OnTaskEvent('task:success') done({ record }: AppEventMap['task:success']): void {
    this.all.push(String(record.returning));
  }
  @OnTaskEvent('task:success', { queue: 'emails' }) sent({ record }: AppEventMap['task:success']): void {
    this.emails.push(String(record.returning));
  }
}

@Module({ providers: [Greeter], exports: [Greeter] })
class GreeterModule {}

describe('qtasks/nest parity', () => {
  let ref: TestingModule | undefined;
  afterEach(async () => {
    await ref?.close();
    ref = undefined;
  });

  const boot = async (tasks: (new (...a: never[]) => unknown)[] = []) => {
    const emails = uniqueQueue('np-emails');
    ref = await Test.createTestingModule({
      imports: [
        QTasksModule.forRoot({ name: uniqueQueue('np-root'), discover: false, tasks, config: { logLevel: 'silent' } }),
        QTasksModule.registerQueue({ name: 'emails', config: { logLevel: 'silent' } }, { name: 'images', worker: false }),
        GreeterModule,
      ],
      providers: [ParityTasks, Sender, Audit],
    }).compile();
    await ref.init();
    return { ref: ref!, emails };
  };

  it('registerQueue: one app per queue, injected with @InjectQueue, started unless worker: false', async () => {
    const m = (await boot()).ref;
    const sender = m.get(Sender);
    const root = m.get(QTasks);
    expect(sender.emails).toBeInstanceOf(QTasks);
    expect([sender.emails.name, sender.images.name]).toEqual(['emails', 'images']);
    expect(sender.emails).not.toBe(root);
    expect(await (await sender.emails.addTask('np.echo', ['to emails'])).result({ timeout: 5_000 })).toBe('to emails');
    const queued = await sender.images.addTask('np.echo', ['waits']);
    expect(await sender.images.manager.workers()).toEqual([]);
    expect((await sender.images.getTask(queued.id))?.status).toBe('new');
    await m.close();
    ref = undefined;
    expect([root.isClosed, sender.emails.isClosed, sender.images.isClosed]).toEqual([true, true, true]);
  });

  it('@OnTaskEvent methods on providers hear their app (or queue) events', async () => {
    const m = (await boot()).ref;
    const audit = m.get(Audit);
    await (await m.get(QTasks).addTask('np.echo', ['root'])).result({ timeout: 5_000 });
    await (await m.get(Sender).emails.addTask('np.echo', ['mail'])).result({ timeout: 5_000 });
    expect(audit.all).toEqual(['root']);
    expect(audit.emails).toEqual(['mail']);
  });

  it('a health indicator in the @nestjs/terminus result shape', async () => {
    const m = (await boot()).ref;
    const health = m.get(QTasksHealthIndicator);
    const up = await health.isHealthy('jobs');
    expect(up).toMatchObject({ jobs: { status: 'up', queues: { emails: { status: 'up' }, images: { status: 'up' } } } });
    await m.get(Sender).images.close();
    const err = await health.isHealthy('jobs').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QTasksHealthError);
    expect(err).toMatchObject({ isHealthCheckError: true, causes: { jobs: { status: 'down', queues: { images: { status: 'down' } } } } });
    expect((await health.check('jobs')).jobs.status).toBe('down');
  });

  it('resolves through Nest what tasks Nest did not build need (constructor and method parameters)', async () => {
    const m = (await boot([GreetTask, GreetMethods])).ref;
    const app = m.get(QTasks);
    expect(await (await app.addTask('np.greet', ['nest'])).result({ timeout: 5_000 })).toBe('hello nest');
    expect(await (await app.addTask('np.greet2', ['method'])).result({ timeout: 5_000 })).toBe('hello method#1');
  });

  it('fails the bootstrap naming a task dependency Nest cannot resolve', async () => {
    const err = await boot([BrokenTask]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.UNRESOLVED_PARAM });
    expect((err as { details: { missing: string[] } }).details.missing).toEqual([expect.stringContaining('Unprovided')]);
    // the failed bootstrap never started the apps; they close without Nest
    for (const app of [ref!.get(QTasks), ...ref!.get(QTasksQueues).all().map((q) => q.app)]) await app.close();
    ref = undefined;
  });
});
