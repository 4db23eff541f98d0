/**
 * Checks the options of `new QTasks(...)` before anything is built: an unknown key (a typo, or an
 * option of another version) is refused with `QTASKS_ERR_BAD_OPTION` naming it and the closest
 * known name, instead of being ignored while the app runs somewhere the user never meant.
 */
import { unknownOption } from '../config/unknown-option';
import { ErrorCodes, QTasksError } from '../errors';
import { QTASKS_OPTION_KEYS, QTasksOptions, WEB_OPTION_KEYS } from './options';

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
