/**
 * `qtasks/nest`: forRoot and forRootAsync, tasks on Nest providers run with Nest's injection (even
 * tokens qtasks could not resolve itself), QTasksService, the app's life bound to Nest's, and a
 * core that never loads @nestjs.
 */
import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QTasks, Task, TaskContext } from 'qtasks';
import { QTasksModule, QTasksService } from 'qtasks/nest';
import { uniqueQueue, waitFor } from './helpers';

const SETTINGS = 'SETTINGS';
interface Settings {
  suffix: string;
}

@Injectable()
class Suffixer {
  constructor(@Inject(SETTINGS) private readonly settings: Settings) {}
  apply(text: string): string {
    return text + this.settings.suffix;
  }
}

@Injectable()
class NestMethodTasks {
  constructor(private readonly suffixer: Suffixer, @Inject(SETTINGS) readonly settings: Settings) {}

  @Task({ name: 'nest.suffix' })
  suffix(ctx: TaskContext, text: string): string {
    return `${this.suffixer.apply(text)}#${ctx.attempt}`;
  }
}

@Injectable()
@Task({ name: 'nest.class' })
class NestClassTask {
  constructor(private readonly suffixer: Suffixer) {}
  run(text: string): string {
    return this.suffixer.apply(text.toUpperCase());
  }
}

@Module({ providers: [{ provide: SETTINGS, useValue: { suffix: '!' } }], exports: [SETTINGS] })
class SettingsModule {}

describe('qtasks/nest', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  const boot = async (root: ReturnType<typeof QTasksModule.forRoot>) => {
    moduleRef = await Test.createTestingModule({
      imports: [root, SettingsModule],
      providers: [Suffixer, NestMethodTasks, NestClassTask],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  };

  it('forRoot: runs method- and class-form tasks on the instances Nest built', async () => {
    const name = uniqueQueue('nest');
    const ref = await boot(QTasksModule.forRoot({ name, discover: false, config: { logLevel: 'silent' } }));
    const service = ref.get(QTasksService);
    const app = ref.get(QTasks);
    expect(service.app).toBe(app);
    expect(app.name).toBe(name);
    const a = await service.addTask<string>('nest.suffix', ['hi']);
    expect(await a.result({ timeout: 5_000 })).toBe('hi!#1');
    const b = await service.addTask<string>('nest.class', ['yo']);
    expect(await b.result({ timeout: 5_000 })).toBe('YO!');
    expect(await service.getTask(b.id)).toMatchObject({ status: 'success', returning: 'YO!' });
    expect(await service.manager.workers()).toHaveLength(1);
    expect(app.taskNames().sort()).toEqual(['nest.class', 'nest.suffix']);
  });

  it('forRootAsync: options come from a factory with injected providers', async () => {
    const name = uniqueQueue('nest-async');
    const ref = await boot(
      QTasksModule.forRootAsync({
        imports: [SettingsModule],
        inject: [SETTINGS],
        useFactory: (settings: Settings) => ({ name: `${name}${settings.suffix === '!' ? '' : '-wrong'}`, discover: false, config: { logLevel: 'silent' } }),
      }),
    );
    const app = ref.get(QTasks);
    expect(app.name).toBe(name);
    expect(await (await app.addTask('nest.suffix', ['async'])).result({ timeout: 5_000 })).toBe('async!#1');
  });

  it('worker: false only enqueues; closing Nest closes the app', async () => {
    const ref = await boot(QTasksModule.forRoot({ name: uniqueQueue('nest-producer'), worker: false, discover: false, config: { logLevel: 'silent' } }));
    const app = ref.get(QTasks);
    const h = await app.addTask('nest.suffix', ['later']);
    expect(await app.manager.workers()).toEqual([]);
    expect((await app.getTask(h.id))?.status).toBe('new');
    await ref.close();
    moduleRef = undefined;
    expect(app.isClosed).toBe(true);
  });

  it('starts at bootstrap and closes on shutdown', async () => {
    const ref = await boot(QTasksModule.forRoot({ name: uniqueQueue('nest-life'), discover: false, config: { logLevel: 'silent' } }));
    const app = ref.get(QTasks);
    await waitFor('the worker', async () => (await app.manager.workers()).length === 1);
    await ref.close();
    moduleRef = undefined;
    expect(app.isClosed).toBe(true);
    await expect(app.addTask('nest.suffix', ['x'])).rejects.toMatchObject({ code: 'QTASKS_ERR_CLOSED' });
  });

  it('the core never loads @nestjs or the web view', () => {
    const dist = join(__dirname, '..', '..', 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const script = `const q = require(${JSON.stringify(dist)}); new q.QTasks({ name: 'x' });
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({ nest: loaded.some((k) => k.includes('@nestjs')), web: loaded.some((k) => /[\\\\/]web[\\\\/]/.test(k)) }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { nest: boolean; web: boolean };
    expect(out).toEqual({ nest: false, web: false });
  });
});
