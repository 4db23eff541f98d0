/**
 * A short soak in the suite (the long one is `npm run soak`): two worker processes of the built
 * package consume 2,000 tasks on a private Redis while workers are SIGKILLed, every connection is
 * killed and Redis is restarted once. Nothing is lost: every task ends success and ran at least once;
 * duplicates (runs cut by a kill) are allowed and counted. Needs `npm run build` first (npm test does).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

interface SoakReport {
  tasks: number;
  kills: number;
  connectionKillRounds: number;
  connectionsKilled: number;
  redisRestarts: number;
  crashes: number;
  success: number;
  lost: number;
  duplicates: number;
  neverRan: number;
  timedOut: boolean;
  lostByStatus: Record<string, number>;
}

// plain JavaScript shared with `npm run soak`
const { runSoak } = require('../../bench/lib/soak') as { runSoak(options: Record<string, unknown>): Promise<SoakReport> };

jest.setTimeout(150_000);

describe('soak: worker processes under SIGKILL, connection kills and a Redis restart', () => {
  it('finishes every task with success and loses none', async () => {
    const dist = join(__dirname, '..', '..', 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const report = await runSoak({
      qtasks: dist,
      tasks: 2_000,
      workers: 2,
      concurrency: 8,
      // at least 2.5 s of work (2,000 × 20 ms over 16 slots), so that the faults land on a fast
      // machine too: several worker kills and connection-kill rounds before the last task ends
      taskMs: 20,
      killEveryMs: 600,
      connKillEveryMs: 700,
      redisRestarts: 1,
      leaseMs: 1_500,
      timeoutMs: 120_000,
    });
    expect(report).toMatchObject({ tasks: 2_000, timedOut: false, lost: 0, success: 2_000, neverRan: 0, crashes: 0, redisRestarts: 1, lostByStatus: {} });
    expect(report.kills).toBeGreaterThanOrEqual(2);
    expect(report.connectionKillRounds).toBeGreaterThanOrEqual(2);
    expect(report.connectionsKilled).toBeGreaterThan(0);
  });
});
