/**
 * Loads a task's module inside a thread or process and finds the exported classes that declare
 * tasks. A `.ts` module is compiled on the fly with decorator metadata kept (as the CLI does).
 */
import { existsSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Constructor, Metadata } from '../metadata';
import { tsRegister } from './child-spawn';
import { ExecutorModuleError } from './remote-run';

/** The exported classes of a loaded module that hold tasks. */
const loaded = new Map<string, Constructor[]>();

/** Loads `file` once and returns its exported task classes; throws `QTASKS_ERR_EXECUTOR_MODULE`. */
export function taskClassesOf(file: string): Constructor[] {
  let classes = loaded.get(file);
  if (classes !== undefined) return classes;
  if (!existsSync(file)) throw new ExecutorModuleError(`The task module ${file} does not exist; give @Task({ module }) the file that exports the task's class`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (/\.c?ts$/.test(file) && require.extensions['.ts'] === undefined) require(tsRegister);
  let exports: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(file);
  } catch (err) {
    throw new ExecutorModuleError(`The task module ${file} failed to load in the executor: ${(err as Error)?.message ?? String(err)}`, err);
  }
  classes = [];
  const seen = new Set<unknown>();
  // its exports, and one level into exported plain objects (`export const tasks = { A, B }`, `default`)
  const values = exports !== null && typeof exports === 'object' ? Object.values(exports as object) : [exports];
  for (const v of [...values]) if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) values.push(...Object.values(v));
  for (const v of values) {
    if (typeof v !== 'function' || typeof v.prototype !== 'object' || seen.has(v)) continue;
    seen.add(v);
    const cls = v as Constructor;
    if (Metadata.classTask(cls) !== undefined || Metadata.methodTasks(cls).length > 0) classes.push(cls);
  }
  loaded.set(file, classes);
  return classes;
}

/** Loads the task modules while a thread or process starts, so that the first job does not wait for it. */
export function preloadModules(files: string[] | undefined): void {
  for (const file of files ?? []) {
    try {
      taskClassesOf(file);
    } catch {
      // reported, with its code, to the job that needs the module
    }
  }
}

let mapped = false;

/**
 * Running from the TypeScript sources (tests, `ts-node`), a task module that imports `qtasks` must
 * get these same sources (one set of classes and metadata keys), as the test runner maps them.
 */
export function mapPackageToSources(entryFile: string): void {
  if (mapped || !/\.ts$/.test(entryFile)) return;
  mapped = true;
  const src = join(dirname(entryFile), '..');
  const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolve = M._resolveFilename;
  M._resolveFilename = function (request: string, ...rest: unknown[]): string {
    if (request === 'qtasks') return join(src, 'index.ts');
    if (request.startsWith('qtasks/')) {
      const sub = request.slice('qtasks/'.length);
      const inEngines = join(src, 'engines', sub, 'index.ts');
      return existsSync(inEngines) ? inEngines : join(src, sub, 'index.ts');
    }
    return resolve.call(this, request, ...rest);
  };
}
