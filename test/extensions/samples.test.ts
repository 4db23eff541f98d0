/**
 * The extension samples run and show what their README sections say.
 */
import { join } from 'node:path';

type Main = (log?: (line: string) => void) => Promise<Record<string, unknown>>;

function load(name: string): Main {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(__dirname, '..', '..', 'samples', name, 'main.ts')) as { main: Main }).main;
}
const quiet = () => undefined;

describe('extension samples', () => {
  it('middleware: memo short-circuit, retry through RetryError, global timing', async () => {
    const out = await load('middleware')(quiet);
    expect(out).toMatchObject({ first: { eur: 1.08 }, second: { eur: 1.08 }, lookups: 1, fetched: 'fetched', attempts: 3 });
    expect(out.timed).toBe(5); // 2 memo calls + 3 attempts
  });

  it('plugins: args stamped, result trimmed, ends counted despite a throwing hook', async () => {
    const out = await load('plugins')(quiet);
    expect(out).toEqual({ greeting: 'hello ada (audit)', ends: { success: 1, error: 1 } });
  });

  it('timers: interval, cron and @Task({ cron }) all fire', async () => {
    const out = await load('timers')(quiet);
    expect(out.every).toBeGreaterThanOrEqual(3);
    expect(out.cron).toBeGreaterThanOrEqual(1);
    expect(out.cleanup).toBeGreaterThanOrEqual(1);
  });

  it('validation: a DTO instance runs, a bad one is refused field by field', async () => {
    const out = await load('validation')(quiet);
    expect(out.created).toBe('created ada@example.com (36)');
    expect((out.issues as { property: string }[]).map((i) => i.property).sort()).toEqual(['age', 'email']);
  });

  it('rate-limit: every call runs, the unlimited task is not held up', async () => {
    const out = await load('rate-limit')(quiet);
    expect(out.results).toEqual([1, 2, 3, 4, 5]);
    expect(out.startedBeforeLocal as number).toBeLessThan(5);
  });

  it('observability: metrics over HTTP, spans and JSON logs', async () => {
    const out = await load('observability')(quiet);
    expect(String(out.metricsLine)).toMatch(/status="success"\} 2$/);
    expect(out.spans).toEqual(expect.arrayContaining(['order.ship send', 'order.ship process']));
    expect(out.logLines as number).toBeGreaterThanOrEqual(4);
  });
});
