/**
 * Every sample runs: each `samples/<name>/main.ts` exports `main()`, which starts its app, does its
 * work, closes and returns what it saw. The basic and state/depends samples are checked in detail.
 */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', 'samples');
const samples = readdirSync(root).filter((d) => existsSync(join(root, d, 'main.ts')));

type Main = (log?: (line: string) => void) => Promise<Record<string, unknown>>;

async function runSample(name: string): Promise<Record<string, unknown>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(join(root, name, 'main.ts')) as { main: Main };
  expect(typeof mod.main).toBe('function');
  return mod.main(() => undefined);
}

describe('samples', () => {
  it('finds the samples', () => {
    expect(samples).toEqual(expect.arrayContaining(['basic', 'state-depends']));
  });

  it('basic: class and method tasks, a streaming generator and a nested task', async () => {
    const out = await runSample('basic');
    expect(out.sum).toBe(3);
    expect(out.upper).toBe('HELLO QTASKS');
    expect(out.words).toBe(3);
    expect(out.streamed).toEqual([3, 2, 1, 4]);
    expect(out.result).toEqual([3, 2, 1, 4]);
    expect((out.counts as Record<string, number>).success).toBe(5);
  });

  it('state-depends: shared state, task and worker scoped resources', async () => {
    const out = await runSample('state-depends');
    expect((out.results as { total: number }[]).map((r) => r.total)).toEqual([1, 2, 3]);
    expect(out.failure).toBe('QTASKS_ERR_TASK_FAILED');
    expect(out.state).toEqual({ total: 3, last: 'home' });
    expect(out.pool).toEqual({ opened: 1, closed: 1 });
    // begin + end for each of the four runs, the failing one included
    expect(out.transactions).toBe(8);
  });

  it('workflows: a chain, a chord, a flow and waitChildren() at concurrency 1', async () => {
    const out = await runSample('workflows');
    expect(out).toEqual({ stored: 'pages:24', total: 14, report: 'squares: 4 + 16', waited: 14 });
  });

  it('executors: CPU-bound work in a thread, a runaway loop stopped, a task in a child process', async () => {
    const out = await runSample('executors');
    expect(typeof out.hash).toBe('string');
    expect(out.stopped).toBe('QTASKS_ERR_TASK_TIMEOUT');
    expect(out.otherProcess).toBe(true);
  });

  for (const name of samples.filter((s) => !['basic', 'state-depends', 'executors'].includes(s))) {
    it(`${name} runs to the end`, async () => {
      await expect(runSample(name)).resolves.toBeDefined();
    });
  }
});
