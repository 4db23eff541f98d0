/**
 * `@Task({ validate })`: turns plain JSON arguments into DTO instances (class-transformer) and checks
 * them (class-validator), at `addTask` and again before the run. class-validator and
 * class-transformer are loaded only when a task asks for validation.
 */
import type * as ClassTransformer from 'class-transformer';
import type * as ClassValidator from 'class-validator';
import type { TaskDefinition } from '../discovery/task-definition';
import { where } from '../discovery/task-definition';
import { ErrorCodes, QTasksError, ValidationError, ValidationIssue } from '../errors';
import type { Constructor } from '../metadata';
import type { PreparedTask } from '../worker/runtime';

/** Declared types that are plain values, never DTOs. */
const PLAIN_TYPES = new Set<unknown>([Number, String, Boolean, Object, Array, Function, Symbol, BigInt, Promise, Date, Map, Set, undefined]);

/** A registry preparer: fills `prepareArgs` of tasks declared with `validate`. */
export function prepareValidation(task: PreparedTask): void {
  const dtos = validationDtos(task.def);
  if (dtos !== undefined) task.prepareArgs = argsValidator(task.def.name, dtos);
}

/**
 * The DTO class of each argument of a task declared with `validate` (undefined without it).
 * Throws `QTASKS_ERR_BAD_OPTION` when the option names no DTO; `register()` calls it early.
 */
export function validationDtos(def: TaskDefinition): (Constructor | undefined)[] | undefined {
  const option = def.options.validate;
  if (option === undefined || option === false) return undefined;
  const dtos = option === true ? dtosFromTypes(def) : checkDtoList(def, option);
  if (dtos.every((d) => d === undefined)) {
    throw new QTasksError(
      ErrorCodes.BAD_OPTION,
      `${where(def)} has validate: true but no parameter is declared with a class type; ` +
        'declare DTO classes as parameter types (method form, or decorate run()), or give validate: [Dto, ...]',
    );
  }
  return dtos;
}

/** Builds the function that converts and checks one argument list. */
export function argsValidator(taskName: string, dtos: (Constructor | undefined)[]): (args: unknown[]) => Promise<unknown[]> {
  const { plainToInstance } = peer<typeof ClassTransformer>('class-transformer', taskName);
  const { validate } = peer<typeof ClassValidator>('class-validator', taskName);
  return async (args) => {
    const out = [...args];
    const issues: ValidationIssue[] = [];
    for (let i = 0; i < dtos.length; i++) {
      const dto = dtos[i];
      if (dto === undefined) continue;
      const plain = args[i];
      if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
        issues.push({ argument: i, property: '', constraints: { isObject: `args[${i}] must be an object shaped as ${dto.name}` } });
        continue;
      }
      const instance = plainToInstance(dto as new () => object, plain);
      const errors = await validate(instance);
      for (const e of errors) flatten(e, i, '', issues);
      out[i] = instance;
    }
    if (issues.length > 0) throw new ValidationError(taskName, issues);
    return out;
  };
}

function flatten(e: ClassValidator.ValidationError, argument: number, prefix: string, into: ValidationIssue[]): void {
  const property = prefix ? `${prefix}.${e.property}` : e.property;
  if (e.constraints && Object.keys(e.constraints).length > 0) into.push({ argument, property, constraints: { ...e.constraints } });
  for (const child of e.children ?? []) flatten(child, argument, property, into);
}

/** DTO class of each argument, read from the declared parameter types. */
function dtosFromTypes(def: TaskDefinition): (Constructor | undefined)[] {
  const types = def.paramTypes;
  if (!types) {
    throw new QTasksError(
      ErrorCodes.BAD_OPTION,
      `${where(def)} has validate: true but TypeScript emitted no parameter types for ${def.method}() ` +
        '(class form: decorate run(), e.g. with a parameter decorator; or enable emitDecoratorMetadata), or give validate: [Dto, ...]',
    );
  }
  const dtos: (Constructor | undefined)[] = [];
  if (def.form === 'method') {
    def.params.forEach((p, j) => {
      if (p.kind === 'arg') dtos.push(asDto(types[j]));
    });
  } else {
    types.slice(def.options.echo ? 1 : 0).forEach((t) => dtos.push(asDto(t)));
  }
  return dtos;
}

function checkDtoList(def: TaskDefinition, list: (Constructor | undefined)[]): (Constructor | undefined)[] {
  if (!Array.isArray(list) || list.some((d) => d !== undefined && typeof d !== 'function')) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `${where(def)}: validate must be true or a list of DTO classes (undefined for an argument left unchecked)`);
  }
  return list;
}

function asDto(t: unknown): Constructor | undefined {
  return typeof t === 'function' && !PLAIN_TYPES.has(t) ? (t as Constructor) : undefined;
}

/** Loads an optional peer that validation needs; `QTASKS_ERR_PEER_MISSING` when it is not installed. */
function peer<T>(name: string, taskName: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw err;
    throw new QTasksError(
      ErrorCodes.PEER_MISSING,
      `Task ${taskName} validates its arguments, which needs ${name}: npm install class-validator class-transformer`,
      { cause: err },
    );
  }
}
