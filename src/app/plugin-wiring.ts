/**
 * Plugins and global middleware of an app: a `@Plugin` instance or class is wired once (its
 * `@Hook` methods added to the app's hook runner), modules named in `config.plugins` are loaded,
 * and `app.use(...)` adds middleware classes.
 */
import type { HookPoint } from '../decorators/middleware.decorator';
import { ErrorCodes, QTasksError } from '../errors';
import { Constructor, Metadata } from '../metadata';
import type { HookRunner } from '../plugins/hook-runner';
import { pluginClassesOf, pluginSpecs } from '../plugins/plugin-loader';
import type { TaskRegistry } from './task-registry';

/** Wires plugins and middleware into one app. */
export class PluginWiring {
  /** Plugin classes wired so far (each once). */
  private readonly wired = new Set<Constructor>();

  constructor(
    private readonly registry: TaskRegistry,
    private readonly hooks: HookRunner,
  ) {}

  /** Adds global middleware (outermost first); throws `QTASKS_ERR_BAD_DECORATOR` for a class that is not `@Middleware()`. */
  use(middleware: Constructor[]): void {
    for (const cls of middleware) {
      if (!Metadata.isMiddleware(cls)) {
        throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.use(${cls?.name}) takes a class decorated with @Middleware()`);
      }
      this.registry.globalMiddleware.push(cls);
    }
    this.registry.invalidate();
  }

  /** Wires a plugin instance or `@Plugin()` class (a class once, however often it is given). */
  plugin(plugin: object | Constructor): void {
    if (typeof plugin === 'function' && this.wired.has(plugin as Constructor)) return;
    const ctor = plugin as Constructor;
    const instance =
      typeof plugin !== 'function' ? plugin : ctor.length === 0 && Metadata.isPlugin(ctor) ? new (ctor as new () => object)() : this.registry.build(ctor);
    const cls = instance.constructor as Constructor;
    if (!Metadata.isPlugin(cls)) {
      throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.plugin(${cls.name}) takes an instance or class decorated with @Plugin()`);
    }
    this.wired.add(cls);
    for (const { point, method } of Metadata.hooks(cls)) {
      const fn = (instance as Record<string, (e: unknown) => unknown>)[method];
      this.hooks.add(point as HookPoint, (e) => fn.call(instance, e), `${cls.name}.${method}`);
    }
  }

  /** Wires the `@Plugin` classes exported by each module (package names or paths from `cwd`). */
  load(modules: readonly string[], cwd: string): void {
    for (const spec of pluginSpecs(modules)) for (const cls of pluginClassesOf(spec, cwd)) this.plugin(cls);
  }

  /** Wires the discoverable `@Plugin` classes among those registered (what `discover: true` does at start). */
  wireDiscovered(): void {
    for (const cls of this.registry.registeredClasses()) if (Metadata.isDiscoverablePlugin(cls)) this.plugin(cls);
  }
}
