/**
 * How the end of one attempt is sent to the finish script: its arguments, and the record updated
 * in place to what will be stored (with its JSON for other processes, when any listens).
 */
import type { Outcome } from '../../engine/broker';
import type { TaskRecord } from '../../task/task-record';
import { encodeOpt, recordJson } from './record-codec';

/**
 * The script arguments of one end; the record is updated in place to what will be stored (the
 * worker is done with it) and its JSON is what the other processes receive.
 */
export function endOf(rec: TaskRecord, d: string, o: Outcome, items: boolean, publish: boolean): { args: string[]; stored: TaskRecord | undefined } {
  const now = Date.now();
  const flagItems = items ? '1' : '';
  rec.updatedAt = now;
  switch (o.status) {
    case 'success': {
      const ret = JSON.stringify(o.returning);
      rec.status = 'success';
      rec.returning = o.returning;
      rec.finishedAt = now;
      const json = publish ? recordJson(d, rec, ret === undefined ? '' : ',"returning":' + ret) : '';
      return { args: [rec.id, 's', ret ?? '', '', rec.removeOnComplete ? '1' : '', flagItems, json], stored: rec };
    }
    case 'error': {
      const err = JSON.stringify(o.error);
      rec.status = 'error';
      rec.error = o.error;
      rec.finishedAt = now;
      return { args: [rec.id, 'e', err, '', '', flagItems, publish ? recordJson(d, rec, ',"error":' + err) : ''], stored: rec };
    }
    case 'cancel': {
      rec.status = 'cancel';
      rec.cancelReason = o.reason;
      rec.finishedAt = now;
      const extra = o.reason === undefined ? '' : ',"cancelReason":' + JSON.stringify(o.reason);
      return { args: [rec.id, 'c', encodeOpt(o.reason), '', '', flagItems, publish ? recordJson(d, rec, extra) : ''], stored: rec };
    }
    case 'retry': {
      const err = JSON.stringify(o.error);
      const runAt = now + Math.max(0, o.delayMs);
      rec.status = 'retry';
      rec.error = o.error;
      if (o.delayMs > 0) rec.runAt = runAt;
      return { args: [rec.id, 'r', err, String(runAt), '', flagItems, publish ? recordJson(d, rec, ',"error":' + err) : ''], stored: rec };
    }
    default:
      rec.status = 'new';
      rec.attempt = Math.max(0, rec.attempt - 1);
      return { args: [rec.id, 'h', '', '', '', flagItems, ''], stored: undefined };
  }
}
