/**
 * `discover` never mixes queues: a task pinned to a queue the app does not consume is left out of
 * it (an `emails` app never accepts an `images` task), while an app consuming that queue (by name
 * or in `queues`) takes it, and an explicit `register()` still routes it to its own queue.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task } from 'qtasks';

const images = `dq-images-${process.pid}`;

@Task({ name: 'dq.resize', queue: images })
class Resize {
  run(w: number): string {
    return `resized ${w}`;
  }
}

@Task({ name: 'dq.send' })
class Send {
  run(to: string): string {
    return `sent ${to}`;
  }
}

describe('discover and named queues', () => {
  const apps: QTasks[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  const make = (o: ConstructorParameters<typeof QTasks>[0]) => {
    const app = new QTasks({ config: { logLevel: 'silent' }, ...o });
    apps.push(app);
    return app;
  };

  it('an app that does not consume a queue never discovers its tasks', async () => {
    const emails = make({ name: `dq-emails-${process.pid}` });
    expect(emails.taskNames()).toContain('dq.send');
    expect(emails.taskNames()).not.toContain('dq.resize');
    await expect(emails.addTask('dq.resize', [1])).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
    await emails.start();
    expect(await (await emails.addTask('dq.send', ['a@b'])).result({ timeout: 2_000 })).toBe('sent a@b');
  });

  it('an app named after the queue, or consuming it, discovers and runs its tasks', async () => {
    const byName = make({ name: images });
    expect(byName.taskNames()).toContain('dq.resize');
    await byName.start();
    expect(await (await byName.addTask('dq.resize', [10])).result({ timeout: 2_000 })).toBe('resized 10');
    const byQueues = make({ name: `dq-both-${process.pid}`, queues: { [images]: { concurrency: 1 } } });
    expect(byQueues.taskNames()).toEqual(expect.arrayContaining(['dq.resize', 'dq.send']));
    await byQueues.start();
    const h = await byQueues.addTask('dq.resize', [20]);
    expect(await h.result({ timeout: 2_000 })).toBe('resized 20');
    expect((await byQueues.manager.list({ queue: images })).map((r) => r.id)).toEqual([h.id]);
  });

  it('a registered task of another queue is routed to that queue, not run by this app', async () => {
    const emails = make({ name: `dq-emails2-${process.pid}`, discover: false }).register(Resize, Send);
    await emails.start();
    const h = await emails.addTask('dq.resize', [5]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await h.status()).toBe('new');
    expect(await emails.manager.list()).toEqual([]);
    expect((await emails.manager.counts(images)).new).toBe(1);
  });
});
