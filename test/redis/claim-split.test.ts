/**
 * A worker with a backlog keeps two claiming calls in flight: its claim is split over two finish
 * calls, so that it runs the tasks of one while Redis runs the other (one call for its whole want
 * leaves Node and Redis waiting on each other in turn). The two are written in different turns of
 * the event loop (two written in one turn reach Redis in one read and come back together). Every
 * task still ends once.
 */
import 'reflect-metadata';
import { Task } from 'qtasks';
import { RedisStorage } from 'qtasks/redis';
import { redisQueueFixture } from './redis-support';

class SplitTasks {
  @Task({ name: 'cs.inc' })
  inc(x: number): number {
    return x + 1;
  }
}

describe('Redis engine: claims split over two calls', () => {
  const fx = redisQueueFixture('cs', SplitTasks);

  it('claims half its want, then the rest in a second call while the first is in flight', async () => {
    const app = fx.app({ concurrency: 20 });
    const hs = await app.addTasks(Array.from({ length: 400 }, (_, i) => ({ name: 'cs.inc', args: [i] })));
    const link = (app.storage as RedisStorage).link;
    const wants: number[] = [];
    let inflight = 0;
    let overlapped = 0;
    const script = link.script.bind(link);
    link.script = (name) => {
      const fn = script(name);
      if (name !== 'finish') return fn;
      return (keys, args) => {
        const want = Number(args[5]);
        wants.push(want);
        if (want > 0 && inflight > 0) overlapped++;
        if (want > 0) inflight++;
        const p = fn(keys, args);
        const done = (): void => {
          if (want > 0) inflight--;
        };
        p.then(done, done);
        return p;
      };
    };
    await app.start();
    expect(await Promise.all(hs.map((h) => h.result({ timeout: 10_000 })))).toEqual(hs.map((_, i) => i + 1));
    // concurrency 20 and a prefetch of 20: 40 wanted, claimed 20 and 20
    expect(wants.slice(0, 2)).toEqual([20, 20]);
    expect(overlapped).toBeGreaterThan(0);
    expect(await app.manager.counts()).toMatchObject({ new: 0, process: 0, success: 400 });
  });

  it('never writes a second finish call in the turn of the event loop that wrote the first', async () => {
    const app = fx.app({ concurrency: 50 });
    const hs = await app.addTasks(Array.from({ length: 2000 }, (_, i) => ({ name: 'cs.inc', args: [i] })));
    const link = (app.storage as RedisStorage).link;
    let calls = 0;
    let inflight = 0;
    let sameTurn = 0;
    let turnOpen = false;
    const script = link.script.bind(link);
    link.script = (name) => {
      const fn = script(name);
      if (name !== 'finish') return fn;
      return (keys, args) => {
        calls++;
        if (turnOpen && inflight > 0) sameTurn++;
        turnOpen = true;
        setImmediate(() => (turnOpen = false));
        inflight++;
        const p = fn(keys, args);
        const done = (): void => {
          inflight--;
        };
        p.then(done, done);
        return p;
      };
    };
    await app.start();
    expect(await Promise.all(hs.map((h) => h.result({ timeout: 20_000 })))).toEqual(hs.map((_, i) => i + 1));
    // 2,000 tasks at 50 a call: dozens of calls, two in flight most of the time
    expect(calls).toBeGreaterThan(40);
    expect(sameTurn).toBe(0);
    expect(await app.manager.counts()).toMatchObject({ new: 0, process: 0, success: 2000 });
  });
});
