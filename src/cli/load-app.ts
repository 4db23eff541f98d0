/**
 * Loads the app module named by `-A <module>[:export]`: a compiled `.js` module or a `.ts` one,
 * compiled on the fly by swc with decorator metadata kept (see ts-loader.ts).
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { QTasks } from '../app/qtasks';
import { ErrorCodes, QTasksError } from '../errors';
import { registerTypeScript } from './ts-loader';

/** Splits `path/to/app.ts:export` (the export defaults to `app`). */
export function parseTarget(spec: string): { file: string; exportName: string } {
  const m = /^(.*?)(?::([A-Za-z_$][\w$]*))?$/.exec(spec);
  const file = m?.[1] ?? spec;
  return { file, exportName: m?.[2] ?? 'app' };
}

/** Loads the app; a function export is called (it may be async) to make the app. */
export async function loadApp(spec: string, cwd = process.cwd()): Promise<QTasks> {
  const { file, exportName } = parseTarget(spec);
  // a directory (-A .) stands for its index module
  const candidates = [file, `${file}.ts`, `${file}.js`, join(file, 'index.ts'), join(file, 'index.js')].map((f) => resolve(cwd, f));
  const path = candidates.find(isFile);
  if (!path) {
    const dir = isDirectory(resolve(cwd, file)) ? ' is a directory without an index.ts or index.js' : ' was not found';
    throw new QTasksError(
      ErrorCodes.CLI_MODULE_NOT_FOUND,
      `The app module ${JSON.stringify(file)}${dir} (looked for ${candidates.join(', ')}); pass the file that exports the app: -A path/to/app.ts[:export]`,
    );
  }
  if (/\.(c?ts|tsx)$/.test(path)) registerTypeScript();
  const mod = requireModule(path);
  let value = mod[exportName] ?? (exportName === 'app' ? (mod.default as Record<string, unknown> | undefined)?.app ?? mod.default : undefined);
  if (value === undefined) {
    const names = Object.keys(mod).filter((k) => k !== '__esModule');
    throw new QTasksError(
      ErrorCodes.CLI_EXPORT_NOT_FOUND,
      `${path} has no export named "${exportName}" (it exports: ${names.join(', ') || 'nothing'}); use -A ${file}:<export>`,
    );
  }
  if (typeof value === 'function' && !isApp(value)) value = await (value as () => unknown)();
  if (!isApp(value)) {
    throw new QTasksError(
      ErrorCodes.CLI_EXPORT_NOT_FOUND,
      `Export "${exportName}" of ${path} is not a QTasks app (or a function returning one)`,
    );
  }
  return value;
}

/** Loads the module; a module it imports that cannot be found is a one-line typed error. */
function requireModule(path: string): Record<string, unknown> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw err;
    const first = String((err as Error).message).split('\n')[0];
    throw new QTasksError(
      ErrorCodes.CLI_MODULE_NOT_FOUND,
      `Loading the app module ${path} failed: ${first} (install it, or fix the import in the app module)`,
      { cause: err },
    );
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isApp(v: unknown): v is QTasks {
  return !!v && typeof v === 'object' && typeof (v as QTasks).addTask === 'function' && typeof (v as QTasks).start === 'function';
}
