/**
 * Tasks of the coordination suite (rate limit, timer lock): they note when their body started, so a
 * case can check the windows a rate limit allows across every app of a queue.
 */
import 'reflect-metadata';
import { Task } from '..';

/** Start times of `co.limited` bodies and runs of `co.tick`; reset before each case. */
export const coordinationProbe = {
  starts: [] as number[],
  ticks: 0,
  reset(): void {
    this.starts.length = 0;
    this.ticks = 0;
  },
};

/** At most 2 starts per 600 ms window, across every app of the queue. */
export const LIMIT = { max: 2, per: 600 };

/** Every task of the coordination suite, method form. */
export class CoordinationTasks {
  @Task({ name: 'co.limited', rateLimit: LIMIT })
  limited(i: number): number {
    coordinationProbe.starts.push(Date.now());
    return i;
  }

  @Task({ name: 'co.plain' })
  plain(): number {
    return coordinationProbe.starts.length;
  }

  @Task({ name: 'co.tick' })
  tick(): void {
    coordinationProbe.ticks++;
  }
}
