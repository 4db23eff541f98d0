/**
 * The one place that reads qtasks metadata.
 */
import { META } from './keys';
import type { Constructor, DependsOptions, MethodTaskMeta, StateOptions, TaskOptions } from './types';

/** Reads what the decorators wrote. */
export const Metadata = {
  classTask(cls: Constructor): TaskOptions | undefined {
    return Reflect.getOwnMetadata(META.task, cls) as TaskOptions | undefined;
  },
  methodTasks(cls: Constructor): MethodTaskMeta[] {
    return (Reflect.getOwnMetadata(META.methodTasks, cls.prototype) as MethodTaskMeta[] | undefined) ?? [];
  },
  state(cls: Constructor): StateOptions | undefined {
    return Reflect.getOwnMetadata(META.state, cls) as StateOptions | undefined;
  },
  depends(cls: Constructor): DependsOptions | undefined {
    return Reflect.getOwnMetadata(META.depends, cls) as DependsOptions | undefined;
  },
  /** Tokens named by `@Inject` on the parameters of a constructor (`key` undefined) or a method. */
  injectTokens(target: object, key?: string): Map<number, unknown> {
    const found = (key === undefined ? Reflect.getOwnMetadata(META.inject, target) : Reflect.getOwnMetadata(META.inject, target, key)) as
      | Map<number, unknown>
      | undefined;
    return found ?? new Map();
  },
  /** Indexes of the method parameters marked `@Arg()`. */
  argParams(target: object, key: string): Set<number> {
    return (Reflect.getOwnMetadata(META.arg, target, key) as Set<number> | undefined) ?? new Set();
  },
  /** Declared parameter types, or undefined when TypeScript emitted none. */
  paramTypes(target: object, key?: string): unknown[] | undefined {
    return (key === undefined ? Reflect.getOwnMetadata('design:paramtypes', target) : Reflect.getOwnMetadata('design:paramtypes', target, key)) as
      | unknown[]
      | undefined;
  },
  isMiddleware(cls: Constructor): boolean {
    return Reflect.getOwnMetadata(META.middleware, cls) === true;
  },
  isPlugin(cls: Constructor): boolean {
    return Reflect.getOwnMetadata(META.plugin, cls) === true;
  },
  /** True unless the plugin class opted out of `discover` (`@Plugin({ discover: false })`). */
  isDiscoverablePlugin(cls: Constructor): boolean {
    return Reflect.getOwnMetadata(META.plugin, cls) === true && Reflect.getOwnMetadata(META.pluginDiscover, cls) !== false;
  },
  /** Hook methods of a plugin class and of the classes it extends (nearest class first). */
  hooks(cls: Constructor): { point: string; method: string }[] {
    const out: { point: string; method: string }[] = [];
    const seen = new Set<string>();
    for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      const own = (Reflect.getOwnMetadata(META.hooks, proto) as { point: string; method: string }[] | undefined) ?? [];
      // a method hooked again by a subclass keeps the subclass's points only
      const fresh = own.filter((h) => !seen.has(h.method));
      out.push(...fresh);
      for (const h of fresh) seen.add(h.method);
    }
    return out;
  },
};
