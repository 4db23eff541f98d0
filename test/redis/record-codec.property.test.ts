/**
 * Properties of the Redis record codec (no Redis needed): any record stored as the scripts store it
 * reads back equal, and any garbage in a task hash reads as a record (a `QTASKS_ERR_BAD_RECORD`
 * error record when it cannot be decoded), never as a throw.
 */
import fc from 'fast-check';
import { ErrorCodes, TASK_STATUSES, TaskRecord, TaskStatus } from 'qtasks';
import { claimedRecord, decodeRecord, encodeOpt, fixedHead, fixedJson } from '../../src/engines/redis/record-codec';

const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const time = fc.integer({ min: 0, max: 4_102_444_800_000 });
const id = fc.string({ minLength: 1, maxLength: 40 });

/** Records as a worker or an enqueue would leave them. */
const record: fc.Arbitrary<TaskRecord> = fc
  .record(
    {
      id,
      name: fc.string({ maxLength: 30 }),
      status: fc.constantFrom(...TASK_STATUSES),
      priority: fc.oneof(fc.integer({ min: -1_000, max: 1_000 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
      args: fc.array(json, { maxLength: 4 }),
      attempt: fc.nat(20),
      createdAt: time,
      updatedAt: time,
      startedAt: time,
      finishedAt: time,
      returning: json,
      error: fc.record({ name: fc.string(), message: fc.string(), code: fc.string() }),
      cancelReason: fc.string(),
      parentId: fc.string({ maxLength: 20 }),
      workerId: fc.string({ maxLength: 20 }),
      runAt: time,
      retry: fc.nat(10),
      backoff: fc.record({ type: fc.constantFrom('fixed' as const, 'exponential' as const), delay: fc.nat(10_000) }),
      timeout: fc.nat(100_000),
      removeOnComplete: fc.boolean(),
      removeOnFail: fc.oneof(fc.boolean(), fc.nat(100)),
      stalls: fc.integer({ min: 1, max: 5 }),
      seq: fc.integer({ min: 1, max: 2 ** 40 }),
      headers: fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 55 }), { maxKeys: 3 }),
    },
    { requiredKeys: ['id', 'name', 'status', 'priority', 'args', 'attempt', 'createdAt', 'updatedAt', 'seq'] },
  )
  .map((r) => {
    const out = { ...r } as TaskRecord;
    if (out.status !== 'cancel') delete out.cancelReason;
    // a start is never shown before the creation (the codec reads an earlier one as the creation)
    if (out.startedAt !== undefined && out.startedAt < out.createdAt) out.startedAt = out.createdAt;
    // nor an update before a start or an end (the codec reads the latest of the three)
    out.updatedAt = Math.max(out.updatedAt, out.startedAt ?? 0, out.finishedAt ?? 0);
    return JSON.parse(JSON.stringify(out)) as TaskRecord;
  });

/** The optional fields kept in a record's fixed JSON. */
const OPTIONAL_FIXED = ['parentId', 'retry', 'backoff', 'timeout', 'removeOnComplete', 'removeOnFail', 'headers'] as const;

/** The task hash as the Lua scripts write it (HGETALL order does not matter). */
function stored(r: TaskRecord): string[] {
  // the enqueue script completes the head with the seq
  const d = fixedHead(r) + r.seq + '}';
  const flat = ['d', d, 'st', r.status, 'att', String(r.attempt), 'up', String(r.updatedAt)];
  if (r.priority !== 0) flat.push('pri', String(r.priority));
  if (r.startedAt !== undefined) flat.push('sa', String(r.startedAt));
  if (r.finishedAt !== undefined) flat.push('fa', String(r.finishedAt));
  if (r.returning !== undefined) flat.push('ret', JSON.stringify(r.returning));
  if (r.error !== undefined) flat.push('err', JSON.stringify(r.error));
  if (r.status === 'cancel') flat.push('cr', encodeOpt(r.cancelReason));
  if (r.workerId !== undefined) flat.push('wid', r.workerId);
  if (r.runAt !== undefined) flat.push('run', String(r.runAt));
  if (r.stalls !== undefined) flat.push('stl', String(r.stalls));
  return flat;
}

/** True for a record a reader can use: every required field with its type. */
function wellTyped(r: TaskRecord): boolean {
  return (
    typeof r.id === 'string' && typeof r.name === 'string' && (TASK_STATUSES as readonly string[]).includes(r.status) &&
    Number.isFinite(r.priority) && Array.isArray(r.args) && Number.isFinite(r.attempt) && Number.isFinite(r.createdAt)
  );
}

const garbage = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify({ id: 'x', v })),
  fc.constantFrom('', '{', '[]', '[1,"x",null,{}]', '[[1]]', 'null', '{"id":"the-id"}', '{"id":"the-id","name":"n","priority":"0","args":[],"createdAt":1}', '1e999', '{"__proto__":{"id":"the-id"}}'),
);

describe('Redis record codec', () => {
  it('reads back any record stored as the scripts store it', () => {
    fc.assert(
      fc.property(record, (r) => {
        // `attempts` is derived from the other fields on read
        const { attempts: _derived, ...got } = decodeRecord(stored(r), r.id)!;
        expect(got).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });

  it('reads updatedAt as the latest of up, the start and the end (claims and ends write no up)', () => {
    fc.assert(
      fc.property(record, fc.option(time, { nil: undefined }), (r, up) => {
        // the hash without its `up`, or with an `up` of any time
        const flat = stored(r);
        const at = flat.indexOf('up');
        if (up === undefined) flat.splice(at, 2);
        else flat[at + 1] = String(up);
        const times = [up, r.startedAt, r.finishedAt].filter((t): t is number => t !== undefined);
        const want = times.length > 0 ? Math.max(...times) : r.createdAt;
        expect(decodeRecord(flat, r.id)!.updatedAt).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('the head the enqueue script completes is the fixed JSON of any record, to the letter', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(fixedHead(r) + r.seq + '}').toBe(fixedJson(r).slice(0, -1) + ',"seq":' + r.seq + '}');
        // each optional fixed field alone, and none
        const plain = { ...r };
        for (const k of OPTIONAL_FIXED) delete plain[k];
        for (const k of [undefined, ...OPTIONAL_FIXED]) {
          const one = k === undefined || r[k] === undefined ? plain : { ...plain, [k]: r[k] };
          expect(fixedHead(one) + '1}').toBe(fixedJson(one).slice(0, -1) + ',"seq":1}');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a claimed record keeps the fixed fields of any record', () => {
    fc.assert(
      fc.property(record, time, fc.string(), (r, now, wid) => {
        const d = fixedHead(r) + r.seq + '}';
        const { rec, bad } = claimedRecord(r.id, d, r.attempt, now, wid);
        expect(bad).toBeUndefined();
        expect(rec).toMatchObject({ id: r.id, name: r.name, priority: r.priority, args: r.args, createdAt: r.createdAt, status: 'process', workerId: wid });
      }),
      { numRuns: 200 },
    );
  });

  it('garbage data decodes to a BAD_RECORD error record, never a throw', () => {
    fc.assert(
      fc.property(garbage, fc.constantFrom<TaskStatus | undefined>(undefined, ...TASK_STATUSES), (d, st) => {
        const flat = st === undefined ? ['d', d] : ['d', d, 'st', st];
        const rec = decodeRecord(flat, 'the-id')!;
        expect(rec).toMatchObject({ id: 'the-id', status: 'error', error: { code: ErrorCodes.BAD_RECORD } });
        expect(wellTyped(rec)).toBe(true);
        const claimed = claimedRecord('the-id', d, 1, 5, 'w');
        expect(typeof claimed.bad).toBe('string');
        expect(claimed.rec).toMatchObject({ id: 'the-id', status: 'process' });
      }),
      { numRuns: 500 },
    );
  });

  it('any hash of strings reads as undefined or a well-typed record, never a throw', () => {
    const field = fc.oneof(fc.constantFrom('d', 'st', 'att', 'up', 'sa', 'fa', 'ret', 'err', 'prog', 'cr', 'wid', 'run', 'stl', 'pri', 'lg', 'ah'), fc.string());
    const value = fc.oneof(garbage, fc.integer().map(String), fc.constantFrom('NaN', 'Infinity', 'process', 'success'));
    fc.assert(
      fc.property(fc.array(fc.tuple(field, value), { maxLength: 8 }), fc.option(record, { nil: undefined }), (pairs, base) => {
        const flat = [...(base ? stored(base) : []), ...pairs.flat()];
        const idOf = base?.id ?? 'the-id';
        const rec = decodeRecord(flat, idOf);
        if (flat.length === 0) expect(rec).toBeUndefined();
        else {
          expect(rec).toBeDefined();
          expect(wellTyped(rec!)).toBe(true);
          expect(rec!.id).toBe(idOf);
          if (rec!.error !== undefined) expect(typeof rec!.error).toBe('object');
        }
      }),
      { numRuns: 500 },
    );
  });
});
