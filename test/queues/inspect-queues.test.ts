/**
 * `qtasks inspect` shows every queue (a table, or `queues` in `--json`) and the details of the one
 * named by `--queue` (default: the app's own); an unknown queue is QTASKS_ERR_UNKNOWN_QUEUE.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';
import { inspectCommand } from '../../src/cli/commands/inspect';
import { parseArgs } from '../../src/cli/args';

const thumbs = `iq-thumbs-${process.pid}`;

@Task({ name: 'iq.thumb', queue: thumbs })
class Thumb {
  run(n: number): number {
    return n;
  }
}

describe('qtasks inspect of several queues', () => {
  let app: QTasks;
  beforeEach(async () => {
    app = new QTasks({ name: `iq-main-${process.pid}`, discover: false, queues: { [thumbs]: { concurrency: 2 } }, config: { logLevel: 'silent' } });
    app.register(Thumb);
    await app.start();
    await (await app.addTask('iq.thumb', [1])).result({ timeout: 2_000 });
  });
  afterEach(() => app.close());

  const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
    let out = '';
    const code = await inspectCommand.run(app, parseArgs(['inspect', ...argv]), { out: (t) => (out += t + '\n'), err: () => undefined });
    return { code, out };
  };

  it('lists every queue and reads one by --queue', async () => {
    const json = JSON.parse((await run('--json', '--queue', thumbs)).out) as { queue: string; counts: { success: number }; workers: { queues: string[] }[]; queues: { name: string }[] };
    expect(json.queue).toBe(thumbs);
    expect(json.counts.success).toBe(1);
    expect(json.workers.map((w) => w.queues)).toEqual([[thumbs]]);
    expect(json.queues.map((q) => q.name)).toEqual([app.name, thumbs]);
    const table = await run();
    expect(table.code).toBe(0);
    expect(table.out).toContain(thumbs);
    await expect(run('--queue=thumbz')).rejects.toMatchObject({ code: 'QTASKS_ERR_UNKNOWN_QUEUE' });
  });
});
