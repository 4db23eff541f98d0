/**
 * The JSON codec of arguments and results: every JSON value round-trips unchanged, every input
 * gives a copy or a typed error (never a RangeError or a raw exception), lossy values are refused,
 * and the depth and size limits hold exactly at their boundary.
 */
import fc from 'fast-check';
import { ErrorCodes, QTasksError } from 'qtasks';
import { toJson, toJsonArgs } from '../../src/task/json';

const limits = { maxDepth: 64, maxPayloadBytes: 16 * 1024 * 1024 };

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(QTasksError);
    return (err as QTasksError).code;
  }
}

describe('JSON codec', () => {
  it('round-trips any JSON value unchanged (as JSON would carry it)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
        const copy = toJson(v, 'Task results', 'result', limits);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(v));
        expect(JSON.parse(JSON.stringify(copy))).toEqual(JSON.parse(JSON.stringify(v)));
        const args = toJsonArgs([v, v], limits);
        expect(JSON.stringify(args)).toBe(JSON.stringify([v, v]));
      }),
      { numRuns: 300 },
    );
  });

  it('gives a copy or a typed error for any input', () => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withBigInt: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }), (v) => {
        for (const run of [() => toJson(v, 'Task results', 'result', limits), () => toJsonArgs([v], limits), () => toJsonArgs(v, limits)]) {
          let out: unknown;
          try {
            out = run();
          } catch (err) {
            expect(err).toBeInstanceOf(QTasksError);
            expect([ErrorCodes.NOT_SERIALIZABLE, ErrorCodes.PAYLOAD_TOO_LARGE]).toContain((err as QTasksError).code);
            continue;
          }
          // whatever is accepted is plain JSON: encoding it again changes nothing
          expect(JSON.parse(JSON.stringify(out) ?? 'null')).toEqual(JSON.parse(JSON.stringify(out) ?? 'null'));
          expect(JSON.stringify(toJson(out, 'x', 'x', limits))).toBe(JSON.stringify(out));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses values JSON would turn into {} instead of losing them', () => {
    class Money {
      #cents = 5;
      get cents() {
        return this.#cents;
      }
    }
    const lossy: unknown[] = [new Map([[1, 2]]), new Set([1]), /x/g, new Error('boom'), new TypeError('t'), Promise.resolve(1), new Uint8Array(2), new ArrayBuffer(4), new WeakMap(), new Money()];
    for (const v of lossy) {
      expect(codeOf(() => toJsonArgs([v], limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
      expect(codeOf(() => toJsonArgs([{ deep: [v] }], limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
      expect(codeOf(() => toJson(v, 'Task results', 'result', limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
    }
    // what JSON keeps faithfully stays accepted
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    expect(toJsonArgs([new Date(0), new Point(1, 2), Object.create(null), new Number(3), Buffer.from('a')], limits)).toEqual([
      '1970-01-01T00:00:00.000Z',
      { x: 1, y: 2 },
      {},
      3,
      { type: 'Buffer', data: [97] },
    ]);
  });

  it('refuses nesting deeper than maxDepth, naming the path, and never throws a RangeError', () => {
    expect(() => toJsonArgs([nested(64)], limits)).not.toThrow();
    expect(() => toJson(nested(64), 'Task results', 'result', limits)).not.toThrow();
    for (const depth of [65, 3_000, 100_000]) {
      for (const run of [() => toJsonArgs([nested(depth)], limits), () => toJson(nested(depth), 'Task results', 'result', limits)]) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(QTasksError);
        expect(err).toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE, details: { path: expect.stringMatching(/^(args\[0\]|result)(\.v){64}$/) } });
      }
    }
    let arr: unknown = [];
    for (let i = 0; i < 10_000; i++) arr = [arr];
    expect(codeOf(() => toJsonArgs([arr], limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
    expect(codeOf(() => toJsonArgs([nested(9)], { ...limits, maxDepth: 8 }))).toBe(ErrorCodes.NOT_SERIALIZABLE);
  });

  it('refuses more than maxPayloadBytes of encoded JSON, exactly at the boundary', () => {
    const small = { maxDepth: 64, maxPayloadBytes: 100 };
    // ["…"] is the string plus 4 bytes; é takes 2 bytes in UTF-8
    expect(toJsonArgs(['a'.repeat(96)], small)).toHaveLength(1);
    expect(codeOf(() => toJsonArgs(['a'.repeat(97)], small))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(toJsonArgs(['é'.repeat(48)], small)).toHaveLength(1);
    expect(codeOf(() => toJsonArgs(['é'.repeat(48) + 'a'], small))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(codeOf(() => toJsonArgs([{ a: 'x'.repeat(200) }], small))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(codeOf(() => toJson('x'.repeat(200), 'Task results', 'result', small))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(codeOf(() => toJsonArgs(['x'.repeat(17 * 1024 * 1024)], limits))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
  });

  it('refuses a huge list or a non-array at once, without allocating it', () => {
    const sparse: unknown[] = [];
    sparse.length = 1e9;
    const before = process.memoryUsage().heapUsed;
    expect(codeOf(() => toJsonArgs([sparse], limits))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(codeOf(() => toJsonArgs(sparse, limits))).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(codeOf(() => toJsonArgs({ length: 1e9 }, limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
    expect(codeOf(() => toJsonArgs('abc', limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
    expect(codeOf(() => toJsonArgs(null, limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('keeps a __proto__ key as a plain own property, never as the prototype', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const [copy] = toJsonArgs([input], limits) as Record<string, unknown>[];
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it('turns a throwing getter, toJSON or Proxy into NOT_SERIALIZABLE', () => {
    const getter = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('no'); } });
    const badToJson = { toJSON: () => { throw new Error('no'); } };
    const proxy = new Proxy({}, { ownKeys: () => { throw new Error('trap'); } });
    for (const v of [getter, badToJson, proxy]) expect(codeOf(() => toJsonArgs([v], limits))).toBe(ErrorCodes.NOT_SERIALIZABLE);
  });
});
