/**
 * `@Middleware()`, `@Plugin()` and `@Hook(point)`: mark classes the app wires around tasks.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { META, noteDecorated } from '../metadata';
import type { Constructor } from '../metadata';
import { assertConstructorMetadata, assertLegacyDecorator } from './compiler-check';

/** Marks a class with `handle(ctx, next)` as middleware. */
export function Middleware(): ClassDecorator {
  return ((target: Constructor, context?: unknown) => {
    assertLegacyDecorator('@Middleware', context);
    assertConstructorMetadata('@Middleware', target);
    if (typeof target.prototype?.handle !== 'function') {
      throw new QTasksError(ErrorCodes.BAD_DECORATOR, `@Middleware() class ${target.name} needs a method handle(ctx, next)`);
    }
    Reflect.defineMetadata(META.middleware, true, target);
  }) as ClassDecorator;
}

/** Options of `@Plugin()`. */
export interface PluginOptions {
  /**
   * `true` (default): an app with `discover: true` wires the class at `start()` without a
   * `plugin()` call. `false`: wired only when asked (`app.plugin()`, `register()`, `config.plugins`),
   * as the plugins qtasks ships are (they take options).
   */
  discover?: boolean;
}

/** Marks a class whose `@Hook` methods run at lifecycle points. */
export function Plugin(options: PluginOptions = {}): ClassDecorator {
  return ((target: Constructor, context?: unknown) => {
    assertLegacyDecorator('@Plugin', context);
    Reflect.defineMetadata(META.plugin, true, target);
    if (options.discover === false) Reflect.defineMetadata(META.pluginDiscover, false, target);
    noteDecorated(target);
  }) as ClassDecorator;
}

/** Lifecycle points a plugin hook can run at. */
export const HOOK_POINTS = [
  'app:start',
  'app:close',
  'task:enqueue',
  'task:before',
  'task:after',
  'task:success',
  'task:error',
  'task:retry',
  'task:cancel',
  'worker:start',
  'worker:stop',
] as const;

/** One of {@link HOOK_POINTS}. */
export type HookPoint = (typeof HOOK_POINTS)[number];

/** Runs this method of a `@Plugin()` class at `point`. */
export function Hook(point: HookPoint): MethodDecorator {
  if (!(HOOK_POINTS as readonly string[]).includes(point)) {
    throw new QTasksError(ErrorCodes.BAD_DECORATOR, `@Hook('${point}') is not a hook point; use one of ${HOOK_POINTS.join(', ')}`);
  }
  return (target: object, key: string | symbol) => {
    assertLegacyDecorator('@Hook', key);
    const list = [...((Reflect.getOwnMetadata(META.hooks, target) as { point: string; method: string }[] | undefined) ?? [])];
    list.push({ point, method: String(key) });
    Reflect.defineMetadata(META.hooks, list, target);
  };
}
