/**
 * Turns anything thrown by a task into the plain error object kept on its record.
 */
import type { TaskErrorInfo } from '../errors';
import { toJson } from './json';

/**
 * A JSON-safe copy of a thrown value: name, message, code and stack. Never throws: a thrown value
 * that cannot be read (throwing getters, a hostile Proxy) gives a generic error.
 */
export function toErrorInfo(err: unknown): TaskErrorInfo {
  try {
    return readError(err);
  } catch {
    return { name: 'Error', message: 'A value was thrown that could not be read' };
  }
}

function readError(err: unknown): TaskErrorInfo {
  if (err instanceof Error) {
    const info: TaskErrorInfo = { name: String(err.name), message: String(err.message) };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') info.code = String(code);
    if (typeof err.stack === 'string') info.stack = err.stack;
    const details = (err as { details?: unknown }).details;
    if (details !== undefined) {
      try {
        info.details = toJson(details, 'Error details', 'details');
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
