/**
 * Whether a broker and a storage can work together, decided by what each says of itself (their
 * `engine`, the broker's `storageNeeds` and the storage's `recordWriter`), never by their classes.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { Broker } from './broker';
import type { Storage } from './storage';

/** Throws `QTASKS_ERR_INCOMPATIBLE_ENGINE` when `broker` cannot keep its records in `storage`. */
export function checkPairing(broker: Broker, storage: Storage): void {
  if (broker.engine === storage.engine) return;
  if (broker.storageNeeds === 'any') {
    if (storage.recordWriter !== undefined) return;
    throw new QTasksError(
      ErrorCodes.INCOMPATIBLE_ENGINE,
      `The ${broker.engine} broker keeps its records in a storage that offers record writes (recordWriter), and the ${storage.engine} storage does not: ` +
        `use the Redis or PostgreSQL storage (redisStorage(url), postgresStorage(…))`,
    );
  }
  throw new QTasksError(
    ErrorCodes.INCOMPATIBLE_ENGINE,
    `The ${broker.engine} broker keeps its records in a ${broker.engine} storage, not in a ${storage.engine} one: ` +
      `use one engine for both (engine: ${broker.engine}Engine(…)), or a broker that works with any storage`,
  );
}
