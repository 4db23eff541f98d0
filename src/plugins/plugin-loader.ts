/**
 * Plugins named in configuration (`config.plugins`, `QTASKS_PLUGINS`, `qtasks run --plugin`):
 * loads each module and finds the `@Plugin` classes it exports. A package name is resolved from
 * the working directory first (the project's own node_modules), then from qtasks itself (so that
 * `qtasks/prometheus` always works); a path is resolved from the working directory.
 */
import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, QTasksError } from '../errors';
import { Constructor, Metadata } from '../metadata';

/** A plugin module that could not be loaded, or that exports no `@Plugin` class. */
export class PluginLoadError extends QTasksError {
  constructor(
    readonly module: string,
    reason: string,
    cause?: unknown,
  ) {
    super(ErrorCodes.PLUGIN_LOAD, `Plugin module ${JSON.stringify(module)} ${reason}`, { cause, details: { module } });
  }
}

/** True for a spec that names a file rather than a package. */
function isPath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec);
}

/** Loads a module by `spec` as {@link pluginClassesOf} describes. */
function load(spec: string, cwd: string): unknown {
  if (isPath(spec)) return require(resolve(cwd, spec));
  let path: string | undefined;
  try {
    path = require.resolve(spec, { paths: [cwd] });
  } catch {
    // not installed in the project: qtasks's own subpaths (and its dependencies) still resolve
  }
  return require(path ?? spec);
}

/**
 * The `@Plugin` classes module `spec` exports (its named exports and its default export), in
 * export order. Throws {@link PluginLoadError} (`QTASKS_ERR_PLUGIN_LOAD`) naming the module when it
 * cannot be found or loaded, or exports no `@Plugin` class.
 */
export function pluginClassesOf(spec: string, cwd = process.cwd()): Constructor[] {
  let mod: unknown;
  try {
    mod = load(spec, cwd);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // not found itself (a module it requires that is missing is a load failure of its own)
    const target = isPath(spec) ? resolve(cwd, spec) : spec;
    const missing = code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${target}'`);
    const why = missing
      ? `cannot be found (from ${cwd}): install the package, or give a path starting with ./ or /`
      : `failed to load: ${(err as Error).message}`;
    throw new PluginLoadError(spec, why, err);
  }
  const found: Constructor[] = [];
  const consider = (v: unknown) => {
    if (typeof v === 'function' && Metadata.isPlugin(v as Constructor) && !found.includes(v as Constructor)) found.push(v as Constructor);
  };
  if (mod !== null && (typeof mod === 'object' || typeof mod === 'function')) {
    consider(mod);
    for (const v of Object.values(mod as Record<string, unknown>)) consider(v);
  }
  if (found.length === 0) {
    throw new PluginLoadError(spec, 'exports no class decorated with @Plugin(): export the plugin class (named or default)');
  }
  return found;
}

/** Plugin module specs from a list or a comma-separated string, trimmed, without blanks or repeats. */
export function pluginSpecs(...lists: (readonly string[] | string | undefined)[]): string[] {
  const out: string[] = [];
  for (const list of lists) {
    const items = typeof list === 'string' ? list.split(',') : (list ?? []);
    for (const item of items) {
      const spec = item.trim();
      if (spec !== '' && !out.includes(spec)) out.push(spec);
    }
  }
  return out;
}
