/**
 * The JSON codec of arguments, results, items, progress and state values: a deep copy with JSON
 * semantics that refuses what JSON would lose silently (functions, symbols, BigInt, cycles, Map,
 * Set, RegExp, Error and other objects whose data lives in internal slots) and what is nested too
 * deep or too large (`maxDepth`, `maxPayloadBytes`), instead of dropping it, crashing the process
 * or handing an engine a value it cannot store. Every input gives a copy or a typed error.
 *
 * A `__proto__` key (as `JSON.parse` makes it) stays a plain own data property of the copy, never
 * its prototype, so it reads the same on every engine.
 */
import { NotSerializableError, PayloadTooLargeError, QTasksError } from '../errors';

/** How deep and how large a value may be (the app's `Config` is one). */
export interface JsonLimits {
  /** Deepest nesting: an argument `{}` or `[]` is 1 deep. */
  readonly maxDepth: number;
  /** Largest encoded JSON, in bytes (UTF-8). */
  readonly maxPayloadBytes: number;
}

/** The limits of the contract (config defaults). */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxDepth: 64, maxPayloadBytes: 16 * 1024 * 1024 });

/** Tags of built-in objects whose data JSON cannot see (it would write `{}`). */
const LOSSY_TAGS = new Set([
  '[object Map]', '[object Set]', '[object WeakMap]', '[object WeakSet]', '[object RegExp]', '[object Error]',
  '[object Promise]', '[object ArrayBuffer]', '[object SharedArrayBuffer]', '[object DataView]', '[object WeakRef]',
  '[object Symbol]', '[object BigInt]', '[object Generator]', '[object AsyncGenerator]',
]);

/** Most bytes one UTF-16 unit of a string can take in JSON (`\u001f`). */
const MAX_UNIT_BYTES = 6;
/** Most bytes a number takes in JSON (`-1.7976931348623157e+308`). */
const MAX_NUMBER_BYTES = 24;

/** One copy in progress: what is being copied, its limits, and bounds of its encoded size. */
class Walk {
  /** Objects on the current path (cycle detection). */
  private readonly path: object[] = [];
  /** A lower bound of the encoded size (UTF-16 units never outnumber UTF-8 bytes). */
  low = 0;
  /** An upper bound of the encoded size. */
  high = 0;

  constructor(
    readonly what: string,
    readonly limits: JsonLimits,
  ) {}

  value(v: unknown, at: string, depth: number, inArray: boolean): unknown {
    switch (typeof v) {
      case 'string':
        this.grow(v.length + 2, v.length * MAX_UNIT_BYTES + 2);
        return v;
      case 'boolean':
        this.grow(4, 5);
        return v;
      case 'number':
        this.grow(1, MAX_NUMBER_BYTES);
        return Number.isFinite(v) ? v : null;
      case 'undefined':
        if (!inArray) return undefined;
        this.grow(4, 4);
        return null;
      case 'object':
        if (v === null) {
          this.grow(4, 4);
          return null;
        }
        return this.object(v, at, depth, inArray);
      case 'bigint':
        throw new NotSerializableError(this.what, at, 'a BigInt (convert it to a string or number)');
      case 'function':
        throw new NotSerializableError(this.what, at, 'a function');
      default:
        throw new NotSerializableError(this.what, at, `a ${typeof v}`);
    }
  }

  private object(obj: object, at: string, depth: number, inArray: boolean): unknown {
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    // as JSON.stringify: toJSON is called once, its result is written as it is
    if (typeof toJSON === 'function') return this.plain(toJSON.call(obj, ''), at, depth, inArray);
    return this.plain(obj, at, depth, inArray);
  }

  /** Copies a value whose toJSON (if any) has been applied. */
  private plain(v: unknown, at: string, depth: number, inArray: boolean): unknown {
    if (v === null || typeof v !== 'object') return this.value(v, at, depth, inArray);
    const obj = v as object;
    if (depth + 1 > this.limits.maxDepth) {
      throw new NotSerializableError(this.what, at, `nested deeper than maxDepth (${this.limits.maxDepth}); flatten it or raise config.maxDepth`);
    }
    if (this.path.includes(obj)) throw new NotSerializableError(this.what, at, 'a circular reference');
    this.path.push(obj);
    const out = Array.isArray(obj) ? this.array(obj, at, depth + 1) : this.record(obj, at, depth + 1);
    this.path.pop();
    return out;
  }

  private array(arr: unknown[], at: string, depth: number): unknown[] {
    const n = arr.length;
    // each element takes at least one byte and a comma: refuse a huge (even sparse) list before allocating
    if (this.low + 2 * n + 1 > this.limits.maxPayloadBytes) throw new PayloadTooLargeError(this.what, this.limits.maxPayloadBytes);
    this.grow(n + 1, n + 1);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const item = arr[i];
      out[i] = typeof item === 'object' && item !== null ? this.object(item, `${at}[${i}]`, depth, true) : this.value(item, `${at}[${i}]`, depth, true);
    }
    return out;
  }

  private record(obj: object, at: string, depth: number): unknown {
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto !== Object.prototype && proto !== null) {
      const boxed = unbox(obj);
      if (boxed !== obj) return this.value(boxed, at, depth - 1, false);
      const tag = Object.prototype.toString.call(obj);
      if (LOSSY_TAGS.has(tag) || ArrayBuffer.isView(obj)) {
        throw new NotSerializableError(this.what, at, `a ${describe(obj, tag)}, which JSON would turn into {} (convert it: [...map], [...set], String(re), { message })`);
      }
    }
    const keys = Object.keys(obj);
    if (keys.length === 0 && proto !== Object.prototype && proto !== null && hasOwnData(proto)) {
      throw new NotSerializableError(this.what, at, `a ${describe(obj, '')} with no own data (JSON would write {}); pass plain data`);
    }
    this.grow(1, 2);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const item = (obj as Record<string, unknown>)[key];
      const c = typeof item === 'object' && item !== null ? this.object(item, `${at}.${key}`, depth, false) : this.value(item, `${at}.${key}`, depth, false);
      if (c === undefined) continue;
      // quotes, colon, and the comma before it or the closing brace after the last
      this.grow(key.length + 4, key.length * MAX_UNIT_BYTES + 4);
      if (key === '__proto__') Object.defineProperty(out, key, { value: c, enumerable: true, writable: true, configurable: true });
      else out[key] = c;
    }
    return out;
  }

  grow(low: number, high: number): void {
    this.low += low;
    this.high += high;
    if (this.low > this.limits.maxPayloadBytes) throw new PayloadTooLargeError(this.what, this.limits.maxPayloadBytes);
  }

  /** Throws when the copy's exact encoded size is over the limit (measured only when it may be). */
  checkSize(copy: unknown): void {
    if (this.high <= this.limits.maxPayloadBytes) return;
    const size = Buffer.byteLength(JSON.stringify(copy) ?? '');
    if (size > this.limits.maxPayloadBytes) throw new PayloadTooLargeError(this.what, this.limits.maxPayloadBytes, size);
  }
}

/** The primitive inside a Number, String or Boolean object (JSON writes those as primitives). */
function unbox(obj: object): unknown {
  if (obj instanceof Number) return Number(obj);
  if (obj instanceof String) return String(obj);
  if (obj instanceof Boolean) return obj.valueOf();
  return obj;
}

/** True when a prototype chain (below Object.prototype) defines more than a constructor. */
function hasOwnData(proto: object | null): boolean {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Reflect.ownKeys(p).some((k) => k !== 'constructor')) return true;
  }
  return false;
}

function describe(obj: object, tag: string): string {
  const ctor = (obj as { constructor?: { name?: unknown } }).constructor;
  const name = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : tag.slice(8, -1) || 'object';
  return `${name} instance`;
}

/**
 * Copies `value` as JSON would (Dates and other `toJSON` objects become their JSON form,
 * `undefined` object members are dropped) and throws {@link NotSerializableError} for values JSON
 * cannot carry or that are nested deeper than `limits.maxDepth`, {@link PayloadTooLargeError}
 * beyond `limits.maxPayloadBytes`. Plain primitives are returned as they are, without allocation.
 */
export function toJson(value: unknown, what = 'Task arguments', path = 'args', limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  const t = typeof value;
  if (t === 'boolean' || value === null || value === undefined) return value;
  if (t === 'number') return Number.isFinite(value) ? value : null;
  if (t === 'string' && (value as string).length * MAX_UNIT_BYTES <= limits.maxPayloadBytes) return value;
  return copyJson(value, what, path, limits, 0);
}

/** The copy itself; `depth` is the nesting of the container `value` sits in. */
function copyJson(value: unknown, what: string, path: string, limits: JsonLimits, depth: number): unknown {
  return guarded(what, path, () => {
    const walk = new Walk(what, limits);
    const copy = walk.value(value, path, depth, false);
    walk.checkSize(copy);
    return copy;
  });
}

/** Copies an argument list; a missing list is `[]`; anything but an array is refused. */
export function toJsonArgs(args: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) {
    throw new NotSerializableError('Task arguments', 'args', `${args === null ? 'null' : typeof args}, not an array (pass arguments as an array: addTask(name, [a, b]))`);
  }
  // fast path: a short array of primitives, well within the size limit
  const n = args.length;
  let plain = n <= 64;
  let units = 0;
  for (let i = 0; plain && i < n; i++) {
    const v = args[i];
    const t = typeof v;
    if (t === 'string') units += (v as string).length;
    else if (!(t === 'boolean' || (t === 'number' && Number.isFinite(v)) || v === null)) plain = false;
  }
  if (plain && (units + n) * MAX_UNIT_BYTES + n * MAX_NUMBER_BYTES <= limits.maxPayloadBytes) return args.slice();
  // the list itself is not a level: an argument `{}` is 1 deep
  return copyJson(args, 'Task arguments', 'args', limits, -1) as unknown[];
}

/** Runs a copy; anything but a qtasks error (a throwing getter or toJSON, a Proxy trap) becomes NOT_SERIALIZABLE. */
function guarded<T>(what: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof QTasksError) throw err;
    const reason = err instanceof RangeError ? 'nested too deep to read' : `a value that threw while read (${errorText(err)})`;
    throw new NotSerializableError(what, path, reason);
  }
}

function errorText(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unreadable';
  }
}

/**
 * A deep copy of data that is already JSON (a stored record's args, result, items): what user code
 * gets, so that changing it never changes what an engine keeps. Cheap for primitives (returned as
 * they are); `__proto__` keys stay own properties. Data nested too deep to copy is returned as is.
 */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  try {
    return clone(value) as T;
  } catch {
    return value;
  }
}

function clone(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = clone(v[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const c = clone((v as Record<string, unknown>)[key]);
    if (key === '__proto__') Object.defineProperty(out, key, { value: c, enumerable: true, writable: true, configurable: true });
    else out[key] = c;
  }
  return out;
}

/** The arguments a run receives: the list itself when it holds only primitives, else a deep copy. */
export function runArgs(args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (v !== null && typeof v === 'object') return cloneJson(args);
  }
  return args;
}
