/**
 * JSON checks for arguments and results: a deep copy with JSON semantics that refuses what JSON
 * would lose silently (functions, symbols, BigInt, cycles) instead of dropping it.
 */
import { NotSerializableError } from '../errors';

/**
 * Copies `value` as JSON would (Dates and other `toJSON` objects become their JSON form,
 * `undefined` object members are dropped) and throws {@link NotSerializableError} for values JSON
 * cannot carry. Plain primitives are returned as they are, without allocation.
 */
export function toJson(value: unknown, what = 'Task arguments', path = 'args'): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'undefined':
      return undefined;
    case 'object':
      return value === null ? null : copyObject(value as object, what, path, []);
    case 'bigint':
      throw new NotSerializableError(what, path, 'a BigInt (convert it to a string or number)');
    case 'function':
      throw new NotSerializableError(what, path, 'a function');
    default:
      throw new NotSerializableError(what, path, `a ${typeof value}`);
  }
}

function copyObject(obj: object, what: string, path: string, seen: object[]): unknown {
  if (seen.includes(obj)) throw new NotSerializableError(what, path, 'a circular reference');
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return toJson(toJSON.call(obj), what, path);
  seen.push(obj);
  let out: unknown;
  if (Array.isArray(obj)) {
    const arr = new Array<unknown>(obj.length);
    for (let i = 0; i < obj.length; i++) {
      const v = obj[i];
      arr[i] = typeof v === 'object' && v !== null ? copyObject(v, what, `${path}[${i}]`, seen) : item(v, what, path, i);
    }
    out = arr;
  } else {
    const res: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      const v = (obj as Record<string, unknown>)[key];
      const c = typeof v === 'object' && v !== null ? copyObject(v, what, `${path}.${key}`, seen) : toJson(v, what, `${path}.${key}`);
      if (c !== undefined) res[key] = c;
    }
    out = res;
  }
  seen.pop();
  return out;
}

function item(v: unknown, what: string, path: string, i: number): unknown {
  const c = toJson(v, what, `${path}[${i}]`);
  return c === undefined ? null : c;
}

/** Copies an argument list; a missing list is `[]`. */
export function toJsonArgs(args: unknown): unknown[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) {
    throw new NotSerializableError('Task arguments', 'args', `${typeof args}, not an array (pass arguments as an array: addTask(name, [a, b]))`);
  }
  // fast path: an array of primitives
  let plain = true;
  for (let i = 0; i < args.length; i++) {
    const t = typeof args[i];
    if (!(t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(args[i])) || args[i] === null)) {
      plain = false;
      break;
    }
  }
  return plain ? args.slice() : (toJson(args) as unknown[]);
}
