/** The member check of `Storage.stateAddMember`, shared by the engines that offer it. */
import { ErrorCodes, QTasksError } from '../../errors';

/** Throws `QTASKS_ERR_BAD_OPTION` unless `member` is a whole number from 0 up. */
export function checkMember(member: number): void {
  if (!Number.isSafeInteger(member) || member < 0) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `stateAddMember(): a member is a whole number from 0 up, got ${String(member)}`);
  }
}
