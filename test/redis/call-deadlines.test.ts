import { CallDeadlines } from '../../src/engines/redis/call-deadlines';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CallDeadlines (one timer for the deadlines of calls in flight)', () => {
  it('expires each unanswered call at its own deadline, whatever order they were watched in', async () => {
    const d = new CallDeadlines();
    const expired: string[] = [];
    const t0 = Date.now();
    const at: Record<string, number> = {};
    const mark = (name: string) => () => {
      expired.push(name);
      at[name] = Date.now() - t0;
    };
    d.watch(200, mark('long'));
    d.watch(40, mark('short'));
    const answered = d.watch(80, mark('answered'));
    d.settle(answered);
    await sleep(120);
    expect(expired).toEqual(['short']);
    expect(at.short).toBeGreaterThanOrEqual(39);
    await sleep(160);
    expect(expired).toEqual(['short', 'long']);
    expect(at.long).toBeGreaterThanOrEqual(199);
  });

  it('never expires a call answered before its deadline, and watches calls made after a sweep', async () => {
    const d = new CallDeadlines();
    const expired: number[] = [];
    for (let i = 0; i < 100; i++) d.settle(d.watch(30, () => expired.push(i)));
    await sleep(60);
    d.watch(30, () => expired.push(-1));
    await sleep(60);
    expect(expired).toEqual([-1]);
  });
});
