/**
 * The explorer: reads the metadata of registered classes and turns it into task definitions with
 * parameter plans, checking their shape with errors that say what to do.
 */
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { Broker } from '../engine/broker';
import { Config } from '../config';
import { DependsToken } from '../depends';
import { ErrorCodes, QTasksError } from '../errors';
import { Logger } from '../logger';
import { Constructor, Metadata, TaskOptions } from '../metadata';
import { Storage } from '../engine/storage';
import { TaskContext } from '../task/task-context';
import { ParamPlan, TaskDefinition } from './task-definition';

const ARG_TYPES = new Set<unknown>([Number, String, Boolean, Object, Array, Function, Symbol, BigInt, Promise, Date, undefined]);

/** Turns decorated classes into task definitions. */
export class Explorer {
  constructor(
    private readonly container: DependencyContainer,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Definitions of every task a class declares (none for state, depends, plugin classes).
   * `prebuilt`: its instance is given (built by another container), so its constructor is not planned.
   */
  explore(cls: Constructor, prebuilt = false): TaskDefinition[] {
    const defs: TaskDefinition[] = [];
    const classOptions = Metadata.classTask(cls);
    if (classOptions) {
      const ctor = prebuilt ? [] : this.ctorPlan(cls, true);
      const perRun = ctor.some(isRunBound);
      defs.push({
        name: classOptions.name ?? cls.name,
        options: classOptions,
        form: 'class',
        cls,
        method: 'run',
        ctor,
        params: classOptions.echo ? [{ kind: 'self' }] : [],
        perRun,
        needsContext: perRun || !!classOptions.echo,
        paramTypes: Metadata.paramTypes(cls.prototype, 'run'),
      });
    }
    const methods = Metadata.methodTasks(cls);
    if (methods.length > 0) {
      const ctor = prebuilt ? [] : this.ctorPlan(cls, false);
      for (const { method, options } of methods) {
        const params = this.methodPlan(cls, method, options);
        defs.push({
          name: options.name ?? `${cls.name}.${method}`,
          options,
          form: 'method',
          cls,
          method,
          ctor,
          params,
          perRun: false,
          // any injected parameter (not only run-bound ones) rules out the args-only fast path
          needsContext: params.some((p) => p.kind !== 'arg'),
          paramTypes: Metadata.paramTypes(cls.prototype, method),
        });
      }
    }
    return defs;
  }

  /** The plan for a class's constructor; `runBound` allows the run's context and task depends. */
  ctorPlan(cls: Constructor, runBound: boolean): ParamPlan[] {
    const n = cls.length;
    if (n === 0) return [];
    const types = Metadata.paramTypes(cls);
    const tokens = Metadata.injectTokens(cls);
    const plan: ParamPlan[] = [];
    for (let i = 0; i < n; i++) {
      const label = `constructor parameter #${i} of ${cls.name}`;
      const token = tokens.has(i) ? tokens.get(i) : types?.[i];
      let p = this.planFor(token, tokens.has(i), label);
      // in a constructor, any other class is built by the container (checked at start)
      if (p.kind === 'arg' && typeof token === 'function' && !ARG_TYPES.has(token)) p = { kind: 'value', token };
      if (p.kind === 'logger' && !runBound) p = { kind: 'value', token: Logger };
      if (p.kind === 'arg') {
        const why = !types ? 'TypeScript emitted no parameter types (enable emitDecoratorMetadata, or use @Inject(token))'
          : `its type ${typeName(types[i])} is not injectable`;
        throw new QTasksError(
          ErrorCodes.UNRESOLVED_PARAM,
          `Cannot resolve ${label}: ${why}. Constructor parameters are injected, never task arguments: ` +
            'use TaskContext, Logger, Broker, Storage, Config, a @State or @Depends class, a class registered in app.container, or @Inject(token)',
        );
      }
      if (!runBound && isRunBound(p)) {
        throw new QTasksError(
          ErrorCodes.UNRESOLVED_PARAM,
          `Cannot inject ${label}: ${cls.name} holds method tasks and is built once per app, so it cannot take run-bound ` +
            'values (TaskContext, task-scoped @Depends); ask for them as parameters of the task method instead',
        );
      }
      plan.push(p);
    }
    return plan;
  }

  private methodPlan(cls: Constructor, method: string, options: TaskOptions): ParamPlan[] {
    const echo = !!options.echo;
    const marked = Metadata.argParams(cls.prototype, method);
    const fn = (cls.prototype as Record<string, unknown>)[method] as (...a: unknown[]) => unknown;
    const types = Metadata.paramTypes(cls.prototype, method);
    const tokens = Metadata.injectTokens(cls.prototype, method);
    const n = Math.max(fn.length, types?.length ?? 0);
    if (!types && n > (echo ? 1 : 0) && tokens.size === 0) {
      this.warn(
        `${cls.name}.${method}: TypeScript emitted no parameter types (emitDecoratorMetadata off, or a build tool such as esbuild/tsx), ` +
          'so every parameter is a task argument; use @Inject(token) to inject',
      );
    }
    const plan: ParamPlan[] = [];
    for (let i = 0; i < n; i++) {
      if (echo && i === 0) {
        plan.push({ kind: 'self' });
        continue;
      }
      if (marked.has(i)) {
        plan.push({ kind: 'arg' });
        continue;
      }
      const token = tokens.has(i) ? tokens.get(i) : types?.[i];
      const p = this.planFor(token, tokens.has(i), `parameter #${i} of ${cls.name}.${method}`);
      // a class the app cannot inject is never silently bound to an argument (start() says so)
      const strict = p.kind === 'arg' && isClassType(token) && !validatesAsDto(options, token);
      plan.push(strict ? { kind: 'unresolved', index: i, type: token } : p);
    }
    return plan;
  }

  private planFor(token: unknown, explicit: boolean, label: string): ParamPlan {
    if (explicit && (token === undefined || token === null)) {
      throw new QTasksError(ErrorCodes.UNRESOLVED_PARAM, `@Inject on ${label} names no token`);
    }
    if (token === TaskContext) return { kind: 'ctx' };
    if (token === Logger) return { kind: 'logger' };
    if (token === Broker || token === Storage || token === Config) return { kind: 'value', token };
    if (token instanceof DependsToken) return token.scope === 'task' ? { kind: 'factory', token } : { kind: 'value', token };
    if (typeof token === 'function') {
      const cls = token as Constructor;
      const dep = Metadata.depends(cls);
      if (dep) return dep.scope === 'worker' ? { kind: 'value', token } : { kind: 'depends', cls };
      if (Metadata.state(cls)) return { kind: 'value', token };
      if (explicit || this.container.isRegistered(cls as unknown as InjectionToken<unknown>, true) || isInjectable(cls)) return { kind: 'value', token };
      return { kind: 'arg' };
    }
    if (explicit) return { kind: 'value', token };
    return { kind: 'arg' };
  }
}

/** True for a declared type that is a class of the user's (not a built-in such as Date, Map or Buffer). */
export function isClassType(t: unknown): boolean {
  if (typeof t !== 'function' || ARG_TYPES.has(t)) return false;
  const name = (t as { name?: unknown }).name;
  return !(typeof name === 'string' && name !== '' && (globalThis as Record<string, unknown>)[name] === t);
}

/** True when the task validates this parameter type as a DTO (so it is an argument). */
function validatesAsDto(options: TaskOptions, type: unknown): boolean {
  return options.validate === true || (Array.isArray(options.validate) && options.validate.includes(type as Constructor));
}

let tsyringeTypes: Map<unknown, unknown> | null | undefined;

/** True for a class decorated with tsyringe's `@injectable()` / `@singleton()` (the container can build it). */
export function isInjectable(cls: unknown): boolean {
  if (tsyringeTypes === undefined) {
    try {
      // tsyringe keeps what @injectable() learnt in this map; it has no public accessor
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      tsyringeTypes = (require('tsyringe/dist/cjs/dependency-container') as { typeInfo?: Map<unknown, unknown> }).typeInfo ?? null;
    } catch {
      tsyringeTypes = null;
    }
  }
  return tsyringeTypes?.has(cls) ?? false;
}

/** True for parameters bound to one run. */
export function isRunBound(p: ParamPlan): boolean {
  return p.kind === 'ctx' || p.kind === 'logger' || p.kind === 'self' || p.kind === 'depends' || p.kind === 'factory';
}

function typeName(t: unknown): string {
  return typeof t === 'function' ? t.name || 'anonymous class' : String(t);
}
