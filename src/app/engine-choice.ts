/**
 * Which engine an app runs on, from its options and the environment: `engine`, then `url`, then
 * the `redis` shorthand, then `broker` / `storage`, then `QTASKS_URL` / `QTASKS_REDIS_URL`, else
 * the in-memory engine. Engines are reached through the registry only.
 */
import type { Engine } from '../engine/engine';
import { checkPairing } from '../engine/pairing';
import { engineFromUrl, loadEngine } from '../engine/registry';
import { ErrorCodes, QTasksError } from '../errors';
import type { QTasksOptions } from './options';

/** The engine of an app; throws `QTASKS_ERR_BAD_OPTION` for conflicting options, `QTASKS_ERR_INCOMPATIBLE_ENGINE` for a broker and storage that cannot pair. */
export function chooseEngine(options: QTasksOptions, env: NodeJS.ProcessEnv = process.env): Engine {
  const { engine, url, redis, broker, storage } = options;
  const given = (['engine', 'url', 'redis'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1 || (given.length === 1 && (broker !== undefined || storage !== undefined))) {
    const all = [...given, ...(broker ? ['broker'] : []), ...(storage ? ['storage'] : [])];
    throw new QTasksError(ErrorCodes.BAD_OPTION, `Give one way to choose the engine, not ${all.join(' and ')}: engine, url, redis, or broker with storage`);
  }
  let chosen: Engine;
  if (engine !== undefined) chosen = checkEngine(engine);
  else if (url !== undefined) {
    if (typeof url !== 'string') throw new QTasksError(ErrorCodes.BAD_OPTION, `url must be a string such as "redis://127.0.0.1:6379", got ${typeof url}`);
    chosen = engineFromUrl(url);
  } else if (redis !== undefined) chosen = loadEngine('redis', redis);
  else if (broker !== undefined || storage !== undefined) {
    const fallback = broker === undefined || storage === undefined ? loadEngine('memory', 'memory:') : undefined;
    chosen = { name: 'custom', broker: broker ?? fallback!.broker, storage: storage ?? fallback!.storage };
  } else if (env.QTASKS_URL) chosen = engineFromUrl(env.QTASKS_URL, 'QTASKS_URL');
  else if (env.QTASKS_REDIS_URL) chosen = loadEngine('redis', env.QTASKS_REDIS_URL);
  else chosen = loadEngine('memory', 'memory:');
  checkPairing(chosen.broker, chosen.storage);
  return chosen;
}

function checkEngine(engine: Engine): Engine {
  if (engine === null || typeof engine !== 'object' || typeof engine.broker !== 'object' || typeof engine.storage !== 'object') {
    throw new QTasksError(ErrorCodes.BAD_OPTION, 'engine must be what an engine factory returns: memoryEngine(), redisEngine(url), …');
  }
  return engine;
}
