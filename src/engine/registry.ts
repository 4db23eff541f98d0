/**
 * Engines by URL scheme, for `new QTasks({ url })`, `QTASKS_URL` and the CLI's `--url`. Each engine
 * is one line: its schemes and a lazy `require` of its folder, so that the core never loads a
 * driver (ioredis, pg, …) that the app does not use. Adding an engine adds one line here and
 * nothing else outside its folder.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { Engine, EngineTarget } from './engine';

/** Makes an engine from a URL (or, for the `redis` shorthand, from its options). */
export type EngineLoader = (target: EngineTarget) => Engine;

/** Loads an engine folder on first use. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(folder: string): T => require(`../engines/${folder}`) as T;
/** A URL as `{ connectionString }`, options as they are. */
const conn = (t: EngineTarget): object => (typeof t === 'string' ? { connectionString: t } : t);

const ENGINES: Record<string, EngineLoader> = {
  memory: () => load<{ memoryEngine(): Engine }>('memory').memoryEngine(),
  redis: (t) => load<{ redisEngine(t: EngineTarget): Engine }>('redis').redisEngine(t),
  rediss: (t) => load<{ redisEngine(t: EngineTarget): Engine }>('redis').redisEngine(t),
  postgres: (t) => load<{ postgresEngine(o: object): Engine }>('postgres').postgresEngine(conn(t)),
  postgresql: (t) => load<{ postgresEngine(o: object): Engine }>('postgres').postgresEngine(conn(t)),
};

/** The URL schemes an engine is registered for (without the colon). */
export function engineSchemes(): string[] {
  return Object.keys(ENGINES);
}

/**
 * The engine for a URL, by its scheme (`memory:`, `redis://`, `rediss://`, `postgres://`,
 * `postgresql://`). Throws `QTASKS_ERR_BAD_OPTION` for a scheme no engine registered, and
 * `QTASKS_ERR_UNSUPPORTED` when that engine's folder cannot be loaded (e.g. its driver is missing).
 */
export function engineFromUrl(url: string, source = 'url'): Engine {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const loader = scheme === undefined ? undefined : ENGINES[scheme];
  if (loader === undefined) {
    throw new QTasksError(
      ErrorCodes.BAD_OPTION,
      `${source} ${JSON.stringify(redact(url))} names no known engine: use one of ${engineSchemes().map((s) => s + ':').join(', ')}`,
    );
  }
  return loadEngine(scheme!, url);
}

/** The engine registered under `scheme`, made from a URL or options (the `redis` shorthand). */
export function loadEngine(scheme: string, target: EngineTarget): Engine {
  const loader = ENGINES[scheme];
  if (loader === undefined) throw new QTasksError(ErrorCodes.BAD_OPTION, `No engine is registered for ${scheme}:`);
  try {
    return loader(target);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND') {
      throw new QTasksError(
        ErrorCodes.UNSUPPORTED,
        `The ${scheme}: engine cannot be loaded (${(err as Error).message.split('\n')[0]}); install its driver`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
