/**
 * The Redis engine's factory for the conformance suites: every app of a run shares one key prefix
 * (queue names are unique per test), and the prefix's keys are deleted after each test.
 */
import type { AppFactory } from 'qtasks/conformance';
import { deleteKeys, ensureRedis, redisApp, testPrefix } from './redis-support';

/** A factory and its cleanup, on a fresh key prefix. */
export function redisConformanceEngine(label: string): { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void>; prefix: string } {
  const prefix = testPrefix(label);
  return {
    factory: ({ name, concurrency, config, queues }) => redisApp({ name, prefix, concurrency, config, queues }),
    cleanup: () => deleteKeys(prefix),
    check: () => ensureRedis(),
    prefix,
  };
}
