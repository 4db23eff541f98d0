/**
 * Bad executor input: a module that does not exist, cannot be loaded, or does not export the
 * task's class, and a bad executor option. Typed errors, nothing left running. And a module slow to
 * load, which is not part of the attempt.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { ErrorCodes, QTasks, Task } from 'qtasks';
import { Quick } from './fixtures/slow-module';

const fixtures = join(__dirname, 'fixtures');

@Task({ name: 'missing-module', executor: 'thread', module: join(fixtures, 'no-such-file.ts') })
class MissingModule {
  run(): number {
    return 1;
  }
}

@Task({ name: 'broken-module', executor: 'thread', module: join(fixtures, 'broken-module.ts'), retry: 2 })
class BrokenModule {
  run(): number {
    return 1;
  }
}

// declared here, but the thread looks for it in a module that does not export it
@Task({ name: 'not-exported', executor: 'process', module: join(fixtures, 'executor-tasks.ts') })
class NotExported {
  run(): number {
    return 1;
  }
}

describe('executor errors', () => {
  it('rejects start() when the task module does not exist, and closes cleanly', async () => {
    const app = new QTasks({ name: 'exec-missing', discover: false, config: { threads: 1 } });
    app.register(MissingModule);
    await expect(app.start()).rejects.toMatchObject({ code: ErrorCodes.EXECUTOR_MODULE });
    await expect(app.addTask('missing-module')).rejects.toMatchObject({ code: ErrorCodes.EXECUTOR_MODULE });
    await app.close();
  });

  it('ends a task whose module fails to load with EXECUTOR_MODULE, without retrying it', async () => {
    const app = new QTasks({ name: 'exec-broken', discover: false, config: { threads: 1 } });
    app.register(BrokenModule);
    await app.start();
    try {
      const h = await app.addTask('broken-module');
      await expect(h.result()).rejects.toMatchObject({ cause: { code: ErrorCodes.EXECUTOR_MODULE } });
      expect((await app.getTask(h.id))?.attempt).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('ends a task whose class the module does not export with EXECUTOR_MODULE', async () => {
    const app = new QTasks({ name: 'exec-unexported', discover: false, config: { processes: 1 } });
    app.register(NotExported);
    await app.start();
    try {
      const h = await app.addTask('not-exported');
      await expect(h.result()).rejects.toMatchObject({ cause: { code: ErrorCodes.EXECUTOR_MODULE } });
    } finally {
      await app.close();
    }
  });

  it('starts the timeout once the module is loaded in the thread, not before', async () => {
    const app = new QTasks({ name: 'exec-slow-load', discover: false, config: { threads: 1 } });
    app.register(Quick);
    await app.start();
    try {
      // loading the module takes longer than the task's timeout
      expect(await (await app.addTask('slow-module.quick')).result()).toBe('done');
    } finally {
      await app.close();
    }
  });

  it('refuses an unknown executor where it is declared', () => {
    expect(() => Task({ executor: 'fiber' as never })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });

  it('takes pool sizes from config and QTASKS_THREADS / QTASKS_PROCESSES', () => {
    process.env.QTASKS_THREADS = '3';
    try {
      const app = new QTasks({ name: 'exec-config', discover: false, config: { processes: 2 } });
      expect(app.config.threads).toBe(3);
      expect(app.config.processes).toBe(2);
    } finally {
      delete process.env.QTASKS_THREADS;
    }
    expect(() => new QTasks({ name: 'exec-config', config: { threads: 0 } })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });
});
