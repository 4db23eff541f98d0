/**
 * The final writes a worker tracks: stop() resolves only once every one has settled, and one that
 * fails is logged (the others, and stop, go on).
 */
import { Worker } from '../../src/worker/worker';
import type { Runtime } from '../../src/worker/runtime';

function deferred(): { promise: Promise<unknown>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<unknown>((ok, fail) => {
    resolve = () => ok(undefined);
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('Worker: tracked final writes', () => {
  it('stop() waits for every tracked write; a failed one is logged', async () => {
    const errors: unknown[][] = [];
    const runtime = {
      storage: {},
      logger: { error: (...a: unknown[]) => errors.push(a), warn: () => undefined, info: () => undefined, debug: () => undefined },
      broker: { stopConsuming: async () => undefined },
    } as unknown as Runtime;
    const worker = new Worker(runtime, 2, 'w-test');
    const a = deferred();
    const b = deferred();
    const c = deferred();
    worker.track(a.promise);
    worker.track(b.promise);
    worker.track(c.promise);
    let stopped = false;
    const stop = worker.stop(10).then(() => (stopped = true));
    a.resolve();
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    b.reject(Object.assign(new Error('boom'), { code: 'X' }));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe('Recording the end of a task failed');
    expect(errors[0][1]).toMatchObject({ code: 'X' });
    c.resolve();
    await stop;
    expect(stopped).toBe(true);
    // idle once more: a write tracked and settled later leaves it idle
    const d = deferred();
    worker.track(d.promise);
    let idle = false;
    const waited = worker.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(idle).toBe(false);
    d.resolve();
    await waited;
    expect(idle).toBe(true);
  });
});
