/**
 * How a thread or process of a pool is started: which entry file, and, when the app runs from
 * TypeScript sources (ts-node, jest), the flags that let it load `.ts` with decorator metadata.
 */
import { extname, join } from 'node:path';

/** The TypeScript options a child compiles `.ts` with (as the CLI does). */
const TS_OPTIONS = JSON.stringify({
  module: 'commonjs',
  target: 'es2022',
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
});

/** True when this package runs from its `.ts` sources rather than its build. */
export const fromSources = extname(__filename) === '.ts';

/** The entry file of a thread (`thread-entry`) or process (`process-entry`), built or source. */
export function entryFile(name: 'thread-entry' | 'process-entry'): string {
  return join(__dirname, name + extname(__filename));
}

/** Node flags and environment for a child: ts-node first when the entry itself is TypeScript. */
export function childSetup(): { execArgv: string[]; env: NodeJS.ProcessEnv } {
  if (!fromSources) return { execArgv: [], env: { ...process.env } };
  return {
    execArgv: ['--require', require.resolve('ts-node/register/transpile-only')],
    env: { ...process.env, TS_NODE_COMPILER_OPTIONS: TS_OPTIONS, TS_NODE_SKIP_PROJECT: 'true' },
  };
}
