/**
 * Engine settings: defaults, the `config` option and `QTASKS_*` environment overrides (env wins).
 */
import { availableParallelism } from 'node:os';
import { ErrorCodes, QTasksError } from '../errors';
import type { LogLevel } from '../logger';
import { unknownOption } from './unknown-option';

/** Settings of one app; injectable as a token. */
export abstract class Config {
  /** Tasks run at once by this process's worker. */
  abstract readonly concurrency: number;
  /** How long a claimed task is held without renewal (ms). */
  abstract readonly leaseMs: number;
  /** Times a task whose lease expired is queued again before it ends `error` (`QTASKS_ERR_STALLED`). */
  abstract readonly maxStalls: number;
  /** How long finished records are kept (ms). */
  abstract readonly resultTtlMs: number;
  /** How long `close()` waits for running tasks before aborting them and handing them back (ms). */
  abstract readonly shutdownTimeoutMs: number;
  /**
   * Default key prefix of engines that namespace their keys (Redis: `<prefix>:{<queue>}:…`). An
   * engine option: the engine's own (`redisEngine({ url, prefix })`) wins; kept here so that
   * `QTASKS_PREFIX` and `config.prefix` go on working.
   */
  abstract readonly prefix: string;
  /** How long an operation waits for the broker before `QTASKS_ERR_BROKER_UNAVAILABLE` (ms). */
  abstract readonly connectTimeoutMs: number;
  /** Lowest level the default logger writes. */
  abstract readonly logLevel: LogLevel;
  /** Deepest nesting of arguments, results, items, progress and state values (an argument `{}` is 1). */
  abstract readonly maxDepth: number;
  /** Largest encoded JSON of the arguments (or of a result, item, progress or state value), in bytes. */
  abstract readonly maxPayloadBytes: number;
  /** Worker threads in the pool of `executor: 'thread'` tasks. */
  abstract readonly threads: number;
  /** Child processes in the pool of `executor: 'process'` tasks. */
  abstract readonly processes: number;
  /** Lines of `ctx.log()` kept on a record (the newest; 0 keeps none). */
  abstract readonly maxLogLines: number;
  /** Attempts kept in a record's `attempts` history (the newest). */
  abstract readonly maxAttemptHistory: number;
  /**
   * Modules whose exported `@Plugin` classes are wired at `start()`: package names resolved from
   * the working directory (`'qtasks/prometheus'`) or file paths (`'./metrics-plugin.js'`).
   * `QTASKS_PLUGINS` takes them comma-separated.
   */
  abstract readonly plugins: readonly string[];
}

/** Every setting, as plain data. */
export interface ConfigValues {
  concurrency: number;
  leaseMs: number;
  maxStalls: number;
  resultTtlMs: number;
  shutdownTimeoutMs: number;
  prefix: string;
  connectTimeoutMs: number;
  logLevel: LogLevel;
  maxDepth: number;
  maxPayloadBytes: number;
  threads: number;
  processes: number;
  maxLogLines: number;
  maxAttemptHistory: number;
  plugins: readonly string[];
}

/** The defaults of the contract. */
export const CONFIG_DEFAULTS: Readonly<ConfigValues> = Object.freeze({
  concurrency: 10,
  leaseMs: 30_000,
  maxStalls: 1,
  resultTtlMs: 24 * 60 * 60 * 1000,
  shutdownTimeoutMs: 10_000,
  prefix: 'qtasks',
  connectTimeoutMs: 5_000,
  logLevel: 'info' as LogLevel,
  maxDepth: 64,
  maxPayloadBytes: 16 * 1024 * 1024,
  // one core stays with the worker's own event loop
  threads: Math.max(1, availableParallelism() - 1),
  processes: Math.max(1, availableParallelism() - 1),
  maxLogLines: 100,
  maxAttemptHistory: 20,
  plugins: Object.freeze([]) as readonly string[],
});

/** Above this, a value nested `maxDepth` deep could not be read back by Redis's Lua JSON (cjson stops at 1000). */
const MAX_DEPTH_LIMIT = 512;

/** Settings that must be whole numbers, with their smallest value. */
const INTEGERS: Partial<Record<keyof ConfigValues, number>> = { concurrency: 1, maxDepth: 1, maxPayloadBytes: 1, maxStalls: 0, threads: 1, processes: 1, maxLogLines: 0, maxAttemptHistory: 0 };

const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'silent']);

/** Settings resolved from defaults, options and environment. */
export class ResolvedConfig extends Config implements ConfigValues {
  readonly concurrency!: number;
  readonly leaseMs!: number;
  readonly maxStalls!: number;
  readonly resultTtlMs!: number;
  readonly shutdownTimeoutMs!: number;
  readonly prefix!: string;
  readonly connectTimeoutMs!: number;
  readonly logLevel!: LogLevel;
  readonly maxDepth!: number;
  readonly maxPayloadBytes!: number;
  readonly threads!: number;
  readonly processes!: number;
  readonly maxLogLines!: number;
  readonly maxAttemptHistory!: number;
  readonly plugins!: readonly string[];

  constructor(options: Partial<ConfigValues> = {}, env: NodeJS.ProcessEnv = process.env) {
    super();
    const values: ConfigValues = { ...CONFIG_DEFAULTS };
    const known = Object.keys(CONFIG_DEFAULTS);
    for (const key of Object.keys(options)) {
      if (!known.includes(key) && (options as Record<string, unknown>)[key] !== undefined) {
        throw unknownOption(`Config has no setting "${key}"`, key, known);
      }
    }
    for (const key of Object.keys(CONFIG_DEFAULTS) as (keyof ConfigValues)[]) {
      const given = options[key];
      if (given !== undefined) assign(values, key, given, `config.${key}`);
      const fromEnv = env[envName(key)];
      if (fromEnv !== undefined && fromEnv !== '') assign(values, key, fromEnv, envName(key));
    }
    Object.assign(this, values);
    Object.freeze(this);
  }

  /** The settings as plain data. */
  toJSON(): ConfigValues {
    const out = {} as Record<string, unknown>;
    for (const key of Object.keys(CONFIG_DEFAULTS)) out[key] = (this as unknown as Record<string, unknown>)[key];
    return out as unknown as ConfigValues;
  }
}

/** `leaseMs` → `QTASKS_LEASE_MS`. */
export function envName(key: string): string {
  return 'QTASKS_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

function assign(values: ConfigValues, key: keyof ConfigValues, raw: unknown, source: string): void {
  const def = CONFIG_DEFAULTS[key];
  if (typeof def === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    const min = INTEGERS[key];
    const max = key === 'maxDepth' ? MAX_DEPTH_LIMIT : Infinity;
    if (!Number.isFinite(n) || n < 0 || n > max || (min !== undefined && (n < min || !Number.isInteger(n)))) {
      const kind = min === undefined ? 'a non-negative number' : `an integer from ${min}${max < Infinity ? ` to ${max}` : ''}`;
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${source} must be ${kind}, got ${JSON.stringify(raw)}`, { details: { option: source } });
    }
    (values as unknown as Record<string, unknown>)[key] = n;
  } else if (Array.isArray(def)) {
    // a list: an array of strings, or one comma-separated string (what an environment variable holds)
    const list = typeof raw === 'string' ? raw.split(',') : raw;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${source} must be a list of strings (or one comma-separated string), got ${JSON.stringify(raw)}`, {
        details: { option: source },
      });
    }
    (values as unknown as Record<string, unknown>)[key] = Object.freeze(list.map((v: string) => v.trim()).filter((v: string) => v !== ''));
  } else if (key === 'logLevel') {
    if (!LEVELS.has(String(raw))) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${source} must be one of ${[...LEVELS].join(', ')}, got ${JSON.stringify(raw)}`, {
        details: { option: source },
      });
    }
    values.logLevel = raw as LogLevel;
  } else {
    if (typeof raw !== 'string') {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${source} must be a string, got ${JSON.stringify(raw)}`, { details: { option: source } });
    }
    (values as unknown as Record<string, unknown>)[key] = raw;
  }
}
