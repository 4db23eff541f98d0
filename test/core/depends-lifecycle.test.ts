/**
 * Task-scoped resources around the edges: opened after the run already ended (timeout, cancel),
 * failing to open, failing to close.
 */
import 'reflect-metadata';
import { Depends, depends, ErrorCodes, Inject, QTasks, Task } from 'qtasks';

const log: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

@Depends()
class SlowRes {
  async open() {
    await sleep(60);
    log.push('slow:open');
  }
  close() {
    log.push('slow:close');
  }
}

const slowGen = depends(async function* () {
  await sleep(60);
  log.push('gen:open');
  yield 1;
  log.push('gen:close');
});

@Depends()
class Good {
  open() {
    log.push('good:open');
  }
  close() {
    log.push('good:close');
  }
}

@Depends()
class BadOpen {
  open() {
    throw new Error('cannot open');
  }
  close() {
    log.push('bad:close');
  }
}

@Depends()
class BadClose {
  close() {
    throw new Error('cannot close');
  }
}

class Tasks {
  @Task({ name: 'dl.slow', timeout: 15 })
  slow(r: SlowRes) {
    return !!r;
  }

  @Task({ name: 'dl.slowGen', timeout: 15 })
  slowGen(@Inject(slowGen) v: number) {
    return v;
  }

  @Task({ name: 'dl.badOpen' })
  badOpen(good: Good, bad: BadOpen) {
    return [!!good, !!bad];
  }

  @Task({ name: 'dl.badClose' })
  badClose(r: BadClose) {
    return !!r;
  }
}

describe('task-scoped resources at the edges', () => {
  let app: QTasks;
  beforeEach(async () => {
    log.length = 0;
    app = new QTasks({ name: `dl-${Date.now()}`, discover: false, config: { logLevel: 'silent' } }).register(Tasks);
    await app.start();
  });
  afterEach(() => app.close());

  it('a resource that finishes opening after a timeout is closed, after its open', async () => {
    for (const name of ['dl.slow', 'dl.slowGen']) {
      const h = await app.addTask(name);
      await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.TASK_TIMEOUT } });
    }
    for (let i = 0; i < 100 && log.length < 4; i++) await sleep(10);
    expect(log).toEqual(['slow:open', 'slow:close', 'gen:open', 'gen:close']);
  });

  it('a resource that fails to open fails the task; those opened before are closed', async () => {
    const h = await app.addTask('dl.badOpen');
    await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ cause: { message: 'cannot open' } });
    expect(log).toEqual(['good:open', 'good:close']);
  });

  it('a resource that fails to close does not fail the task', async () => {
    const h = await app.addTask('dl.badClose');
    expect(await h.result({ timeout: 2_000 })).toBe(true);
  });
});
