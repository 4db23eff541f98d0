/**
 * `@Task(options)`: on a class (its `run` method is the task) or on a method.
 */
import { backoffProblem } from '../app/enqueue-options';
import { ErrorCodes, QTasksError } from '../errors';
import { callerFile } from '../executor/caller-file';
import { checkRetention } from '../task/retention';
import { isQueueName } from '../engine/queue-options';
import { META, MethodTaskMeta, noteDecorated, TaskOptions } from '../metadata';
import type { Constructor } from '../metadata';
import { assertConstructorMetadata, assertLegacyDecorator, assertMethodMetadata } from './compiler-check';

/**
 * Makes a task of a class (method `run`) or of a method.
 * @example
 * ```ts
 * @Task({ name: 'add' }) class Add { run(a: number, b: number) { return a + b; } }
 * class Mailer { @Task({ name: 'mail.send', retry: 3 }) send(ctx: TaskContext, to: string) {} }
 * ```
 */
export function Task(options: TaskOptions = {}): ClassDecorator & MethodDecorator {
  checkOptions(options);
  if ((options.executor === 'thread' || options.executor === 'process') && options.module === undefined) {
    // the thread or process loads the class from the file that declared it
    const module = callerFile(Task);
    if (module !== undefined) options = { ...options, module };
  }
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    assertLegacyDecorator('@Task', key);
    if (key === undefined) {
      if (typeof target !== 'function') throw badTarget('a value that is not a class');
      const cls = target as Constructor;
      if (typeof cls.prototype?.run !== 'function') {
        throw new QTasksError(
          ErrorCodes.BAD_DECORATOR,
          `@Task on class ${cls.name} needs a method run(...args): add one, or put @Task on the method that does the work`,
        );
      }
      assertConstructorMetadata('@Task', cls);
      Reflect.defineMetadata(META.task, { ...options }, cls);
      noteDecorated(cls);
      return;
    }
    if (typeof target === 'function') throw badTarget(`static method ${target.name}.${String(key)}`);
    if (typeof key === 'symbol') throw badTarget(`symbol-named method ${String(key)}`);
    if (!descriptor || typeof descriptor.value !== 'function') {
      throw badTarget(`property ${target.constructor.name}.${key} (not a method)`);
    }
    assertMethodMetadata(target, key, descriptor.value as (...args: never[]) => unknown, options.echo === true);
    const list = [...((Reflect.getOwnMetadata(META.methodTasks, target) as MethodTaskMeta[] | undefined) ?? [])];
    list.push({ method: key, options: { ...options } });
    Reflect.defineMetadata(META.methodTasks, list, target);
    noteDecorated(target.constructor as Constructor);
  }) as ClassDecorator & MethodDecorator;
}

function badTarget(what: string): QTasksError {
  return new QTasksError(
    ErrorCodes.BAD_DECORATOR,
    `@Task cannot decorate ${what}: put it on a class with a run() method or on an instance method`,
  );
}

function checkOptions(o: TaskOptions): void {
  const fail = (msg: string) => new QTasksError(ErrorCodes.BAD_OPTION, `@Task${o.name ? `({ name: '${o.name}' })` : ''}: ${msg}`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw fail('name must be a non-empty string');
  if (o.queue !== undefined && !isQueueName(o.queue)) throw fail('queue must be a non-empty queue name, without spaces or braces');
  if (o.retry !== undefined && (!Number.isInteger(o.retry) || o.retry < 0)) throw fail('retry must be a non-negative integer');
  if (o.timeout !== undefined && !(o.timeout > 0)) throw fail('timeout must be a positive number of ms');
  if (o.priority !== undefined && !Number.isFinite(o.priority)) throw fail('priority must be a finite number');
  if (typeof o.backoff !== 'function') {
    const bad = backoffProblem(o.backoff);
    if (bad) throw fail(`${bad}, or a function (attempt, error) => ms`);
  }
  checkRetention(o.removeOnComplete, `@Task${o.name ? `({ name: '${o.name}' })` : ''}: removeOnComplete`);
  checkRetention(o.removeOnFail, `@Task${o.name ? `({ name: '${o.name}' })` : ''}: removeOnFail`);
  if (o.generateHandler !== undefined && typeof o.generateHandler !== 'function') throw fail('generateHandler must be a function');
  if (o.executor !== undefined && !['inline', 'thread', 'process'].includes(o.executor)) {
    throw fail("executor must be 'inline', 'thread' or 'process'");
  }
  if (o.module !== undefined && (typeof o.module !== 'string' || o.module.length === 0)) throw fail('module must be a file path (e.g. __filename)');
  if (o.rateLimit !== undefined && (!(o.rateLimit.max >= 1) || !(o.rateLimit.per > 0))) throw fail('rateLimit must be { max >= 1, per > 0 }');
}
