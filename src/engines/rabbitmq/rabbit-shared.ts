/**
 * What the RabbitMQ broker shares between processes through the storage it pairs with (AMQP has no
 * place for it): the paused flag, locks, rate-limit windows and the live workers with their
 * heartbeats. Each is one atomic state update of the storage.
 */
import type { WorkerInfo } from '../../engine/broker';
import type { Storage } from '../../engine/storage';

/** State names used in the storage (not visible as user states: user states have class names). */
const META = 'qtasks:rabbitmq';
const LOCKS = 'qtasks:rabbitmq:locks';
const RATES = 'qtasks:rabbitmq:rates';
const WORKERS = 'qtasks:rabbitmq:workers';

/** A worker is live while its heartbeat is younger than this (ms). */
export const HEARTBEAT_MS = 1_000;
const LIVE_MS = HEARTBEAT_MS * 5;

/** Shared flags, locks and workers of one queue, kept in its storage. */
export class RabbitShared {
  constructor(private readonly storage: Storage) {}

  async isPaused(): Promise<boolean> {
    return (await this.storage.stateGet(META, 'paused')) === true;
  }

  async setPaused(paused: boolean): Promise<void> {
    await this.storage.stateSet(META, 'paused', paused);
  }

  async tryLock(key: string, ttlMs: number): Promise<boolean> {
    let took = false;
    await this.storage.stateUpdate(LOCKS, key, (v) => {
      const now = Date.now();
      took = !(typeof v === 'number' && v > now);
      return took ? now + ttlMs : v;
    });
    return took;
  }

  async rateLimit(key: string, max: number, perMs: number): Promise<number> {
    let wait = 0;
    await this.storage.stateUpdate(RATES, key, (v) => {
      const now = Date.now();
      const starts = (Array.isArray(v) ? (v as number[]) : []).filter((t) => t > now - perMs);
      if (starts.length < max) {
        wait = 0;
        starts.push(now);
      } else wait = Math.max(1, starts[starts.length - max] + perMs - now);
      return starts;
    });
    return wait;
  }

  async beat(info: WorkerInfo): Promise<void> {
    await this.storage.stateSet(WORKERS, info.id, { ...info, lastSeenAt: Date.now() });
  }

  async leave(workerId: string): Promise<void> {
    await this.storage.stateDelete(WORKERS, workerId);
  }

  /** Live workers; entries of dead ones are dropped on the way. */
  async workers(): Promise<WorkerInfo[]> {
    const all = await this.storage.stateAll(WORKERS);
    const now = Date.now();
    const out: WorkerInfo[] = [];
    for (const [id, v] of Object.entries(all)) {
      const w = v as WorkerInfo;
      if (typeof w?.lastSeenAt === 'number' && w.lastSeenAt > now - LIVE_MS) out.push(w);
      else if (typeof w?.lastSeenAt === 'number' && w.lastSeenAt < now - LIVE_MS * 10) await this.storage.stateDelete(WORKERS, id);
    }
    return out;
  }

  /** True when worker `id` sent a heartbeat lately. */
  async isLive(id: string | undefined): Promise<boolean> {
    if (id === undefined) return false;
    const w = (await this.storage.stateGet(WORKERS, id)) as WorkerInfo | undefined;
    return typeof w?.lastSeenAt === 'number' && w.lastSeenAt > Date.now() - LIVE_MS;
  }
}
