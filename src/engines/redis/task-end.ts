/**
 * How the end of one attempt is sent to the finish script: its arguments, and the record updated
 * in place to what will be stored (with its JSON for other processes, when any listens).
 */
import type { Outcome } from '../../engine/broker';
import { Retention, retentionOf } from '../../task/retention';
import { retriedAttempt } from '../../task/task-history';
import type { TaskRecord } from '../../task/task-record';
import { encodeOpt, recordJson } from './record-codec';

/**
 * A retention as the finish and transition scripts take it: '' keeps the task, '1' drops it at
 * once, otherwise the JSON `[count, age]` (-1 for none) of the queue's tasks of that end to keep.
 */
export function retentionArg(r: Retention | undefined): string {
  if (r === undefined) return '';
  if (r.now) return '1';
  return r.count !== undefined || r.age !== undefined ? JSON.stringify([r.count ?? -1, r.age ?? -1]) : '';
}

/**
 * The script arguments of one end; the record is updated in place to what will be stored (the
 * worker is done with it) and its JSON is what the other processes receive.
 */
export function endOf(
  rec: TaskRecord,
  d: string,
  o: Outcome,
  items: boolean,
  publish: boolean,
  maxHistory: number,
): { args: string[]; stored: TaskRecord | undefined } {
  const now = Date.now();
  // the head: kind, '1' when the task has items (else '0'), then what that kind needs
  const flagItems = items ? '1' : '0';
  rec.updatedAt = now;
  switch (o.status) {
    case 'success': {
      const r = o.returning;
      // a finite number's JSON is its text (the common result of a short task)
      const ret = typeof r === 'number' && Number.isFinite(r) ? String(r) : JSON.stringify(r);
      rec.status = 'success';
      rec.returning = o.returning;
      rec.finishedAt = now;
      const keep = rec.removeOnComplete === undefined ? '' : retentionArg(retentionOf(rec.removeOnComplete));
      // a record dropped at once can only reach other processes' handles in the announcement
      const json = publish || (keep === '1' && d !== '') ? recordJson(d, rec, ret === undefined ? '' : ',"returning":' + ret) : '';
      return { args: [rec.id, keep === '' ? (items ? 's1' : 's0') : 's' + flagItems + keep, ret ?? '', json], stored: rec };
    }
    case 'error': {
      const err = JSON.stringify(o.error);
      rec.status = 'error';
      rec.error = o.error;
      rec.finishedAt = now;
      const keep = rec.removeOnFail === undefined ? '' : retentionArg(retentionOf(rec.removeOnFail));
      const json = publish || (keep === '1' && d !== '') ? recordJson(d, rec, ',"error":' + err) : '';
      return { args: [rec.id, 'e' + flagItems + keep, err, json], stored: rec };
    }
    case 'cancel': {
      rec.status = 'cancel';
      rec.cancelReason = o.reason;
      rec.finishedAt = now;
      const extra = o.reason === undefined ? '' : ',"cancelReason":' + JSON.stringify(o.reason);
      return { args: [rec.id, 'c' + flagItems, encodeOpt(o.reason), publish ? recordJson(d, rec, extra) : ''], stored: rec };
    }
    case 'retry': {
      const err = JSON.stringify(o.error);
      const runAt = now + Math.max(0, o.delayMs);
      rec.status = 'retry';
      rec.error = o.error;
      if (o.delayMs > 0) rec.runAt = runAt;
      // the attempt joins the record's history: [how many to keep, entry]
      const history = maxHistory > 0 ? JSON.stringify([maxHistory, retriedAttempt(rec, o.error, now)]) : '';
      return { args: [rec.id, 'r' + flagItems + runAt + ' ' + history, err, publish ? recordJson(d, rec, ',"error":' + err) : ''], stored: rec };
    }
    default:
      rec.status = 'new';
      rec.attempt = Math.max(0, rec.attempt - 1);
      return { args: [rec.id, 'h' + flagItems, '', ''], stored: undefined };
  }
}
