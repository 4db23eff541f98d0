/**
 * Turns anything thrown by a task into the plain error object kept on its record.
 */
import type { TaskErrorInfo } from '../errors';

/** A JSON-safe copy of a thrown value: name, message, code and stack. */
export function toErrorInfo(err: unknown): TaskErrorInfo {
  if (err instanceof Error) {
    const info: TaskErrorInfo = { name: err.name, message: err.message };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') info.code = String(code);
    if (err.stack) info.stack = err.stack;
    const details = (err as { details?: unknown }).details;
    if (details !== undefined) {
      try {
        info.details = JSON.parse(JSON.stringify(details));
      } catch {
        /* details that are not JSON are left out */
      }
    }
    return info;
  }
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    // an error-like object (thrown by some libraries): keep its name, message and code
    const { name, message, code } = err as { name?: unknown; message: string; code?: unknown };
    const info: TaskErrorInfo = { name: typeof name === 'string' ? name : 'Error', message };
    if (typeof code === 'string' || typeof code === 'number') info.code = String(code);
    return info;
  }
  return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
