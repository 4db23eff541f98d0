/**
 * How a thread or process of a pool is started: which entry file, and, when the app runs from
 * TypeScript sources (ts-node, jest), the flags that let it load `.ts` with decorator metadata.
 */
import { extname, join } from 'node:path';

/** True when this package runs from its `.ts` sources rather than its build. */
export const fromSources = extname(__filename) === '.ts';

/** The entry file of a thread (`thread-entry`) or process (`process-entry`), built or source. */
export function entryFile(name: 'thread-entry' | 'process-entry'): string {
  return join(__dirname, name + extname(__filename));
}

/** The `.ts` loader of threads and processes (plain CommonJS, with a compile cache on disk). */
export const tsRegister = join(__dirname, 'ts-register.cjs');

/** Node flags for a child: the `.ts` loader first when the entry itself is TypeScript. */
export function childSetup(): { execArgv: string[]; env: NodeJS.ProcessEnv } {
  return { execArgv: fromSources ? ['--require', tsRegister] : [], env: { ...process.env } };
}
