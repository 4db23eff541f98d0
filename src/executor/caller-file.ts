/**
 * The file a call came from, read from the V8 call sites, so that `@Task({ executor })` knows which
 * module a thread or a child process must load to find the task's class.
 */
import { fileURLToPath } from 'node:url';

/**
 * Path of the file that called `fn` (the first frame below it), or undefined when the stack does not
 * say (code evaluated from a string).
 */
export function callerFile(fn: (...args: never[]) => unknown): string | undefined {
  const holder: { stack?: NodeJS.CallSite[] } = {};
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] | undefined;
  try {
    // structured frames: the file names V8 knows (the .ts path under ts-node and jest)
    Error.prepareStackTrace = (_err, sites) => sites;
    Error.stackTraceLimit = 8;
    Error.captureStackTrace(holder, fn);
    frames = holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(frames)) return undefined;
  for (const frame of frames) {
    const file = frame.getFileName();
    if (!file || file.startsWith('node:') || file.startsWith('internal/')) continue;
    return file.startsWith('file:') ? fileURLToPath(file) : file;
  }
  return undefined;
}
