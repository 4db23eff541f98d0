/**
 * The final writes a worker tracks: stop() resolves only once every one has settled, and one that
 * fails is logged (the others, and stop, go on).
 */
import type { Outcome } from '../../src/engine/broker';
import type { TaskRecord } from '../../src/task/task-record';
import { recordEnd } from '../../src/worker/attempt-end';
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

  it('an end written through the broker\'s finishThen is tracked as one written through finish', async () => {
    const errors: unknown[][] = [];
    const calls: { rec: TaskRecord; done: (r: TaskRecord | undefined) => void; failed: (e: Error) => void }[] = [];
    const runtime = {
      storage: {},
      logger: { error: (...a: unknown[]) => errors.push(a), warn: () => undefined, info: () => undefined, debug: () => undefined },
      hooks: { has: () => false },
      broker: {
        stopConsuming: async () => undefined,
        finish: () => Promise.reject(new Error('finish is not called when finishThen is offered')),
        finishThen: (rec: TaskRecord, _o: Outcome, done: (r: TaskRecord | undefined) => void, failed: (e: Error) => void) => calls.push({ rec, done, failed }),
      },
    } as unknown as Runtime;
    const worker = new Worker(runtime, 2, 'w-test');
    const rec = (id: string) => ({ id, name: 't', status: 'process', priority: 0, args: [], attempt: 1, createdAt: 0, updatedAt: 0 }) as TaskRecord;
    const run = (r: TaskRecord) => ({ rec: r, madeContext: undefined, context: () => { throw new Error('no context'); } });
    recordEnd(worker, run(rec('a')), { status: 'success', returning: 1 }, undefined);
    recordEnd(worker, run(rec('b')), { status: 'success', returning: 2 }, undefined);
    expect(calls.map((c) => c.rec.id)).toEqual(['a', 'b']);
    let stopped = false;
    const stop = worker.stop(10).then(() => (stopped = true));
    calls[0].done(calls[0].rec);
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    calls[1].failed(Object.assign(new Error('boom'), { code: 'X' }));
    await stop;
    expect(stopped).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe('Recording the end of a task failed');
    expect(errors[0][1]).toMatchObject({ code: 'X' });
  });
});
