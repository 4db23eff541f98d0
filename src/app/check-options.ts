/**
 * Checks the options of `new QTasks(...)` before anything is built: an unknown key (a typo, or an
 * option of another version) is refused with `QTASKS_ERR_BAD_OPTION` naming it and the closest
 * known name, instead of being ignored while the app runs somewhere the user never meant.
 */
import { unknownOption } from '../config/unknown-option';
import { ErrorCodes, QTasksError } from '../errors';
import { isQueueName, MAX_PARTITIONS } from '../engine/queue-options';
import { QTASKS_OPTION_KEYS, QTasksOptions, QUEUE_OPTION_KEYS, WEB_OPTION_KEYS } from './options';

/** Throws `QTASKS_ERR_BAD_OPTION` for an unknown or ill-typed option. */
export function checkOptions(options: QTasksOptions, known: readonly string[] = QTASKS_OPTION_KEYS): void {
  if (options === null || typeof options !== 'object') {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `new QTasks(options) takes an object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if ((options as Record<string, unknown>)[key] === undefined || known.includes(key)) continue;
    throw unknownOption(`new QTasks() has no option "${key}"`, key, known);
  }
  if (options.discover !== undefined && typeof options.discover !== 'boolean') {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `Option "discover" must be true or false, got ${JSON.stringify(options.discover)}`);
  }
  if (options.config !== undefined && (options.config === null || typeof options.config !== 'object')) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, 'Option "config" must be an object of settings (see Config)');
  }
  if (options.queues !== undefined) checkQueues(options.queues);
  if (options.web !== undefined) {
    if (options.web === null || typeof options.web !== 'object') {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'Option "web" must be an object: { allowedHosts?, maxClients? }');
    }
    for (const key of Object.keys(options.web)) {
      if ((options.web as Record<string, unknown>)[key] !== undefined && !WEB_OPTION_KEYS.includes(key)) {
        throw unknownOption(`Option "web" has no setting "${key}"`, key, WEB_OPTION_KEYS);
      }
    }
  }
}

/** Checks the `queues` option: names usable as queue names, settings known and in range. */
function checkQueues(queues: unknown): void {
  const example = '{ emails: { concurrency: 5 }, images: { concurrency: 1 } }';
  if (queues === null || typeof queues !== 'object' || Array.isArray(queues)) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `Option "queues" must be an object of queue settings, e.g. ${example}`);
  }
  for (const [name, settings] of Object.entries(queues as Record<string, unknown>)) {
    const at = `Option "queues" › ${JSON.stringify(name)}`;
    if (!isQueueName(name)) throw new QTasksError(ErrorCodes.BAD_OPTION, `${at}: a queue name must be non-empty, without spaces or braces`);
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${at} must be an object { concurrency?, partitions? } (use {} for the defaults)`);
    }
    const s = settings as Record<string, unknown>;
    for (const key of Object.keys(s)) {
      if (s[key] !== undefined && !QUEUE_OPTION_KEYS.includes(key)) throw unknownOption(`${at} has no setting "${key}"`, key, QUEUE_OPTION_KEYS);
    }
    if (s.concurrency !== undefined && !(Number.isInteger(s.concurrency) && (s.concurrency as number) >= 1)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${at}: concurrency must be an integer of 1 or more, got ${String(s.concurrency)}`);
    }
    if (s.partitions !== undefined && !(Number.isInteger(s.partitions) && (s.partitions as number) >= 1 && (s.partitions as number) <= MAX_PARTITIONS)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `${at}: partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(s.partitions)}`);
    }
  }
}
