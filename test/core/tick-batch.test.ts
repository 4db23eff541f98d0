/**
 * TickBatch, under the shared-state batches of the Redis and PostgreSQL storages: the calls of one
 * tick go in one command per group (in commands of at most `size`), each answered on its own; a
 * failed command rejects only its calls; with `maxInflight`, calls made while that many commands
 * are out wait and go together, in order, once one is answered.
 */
import { TickBatch } from '../../src/engines/shared/tick-batch';

/** A command held until released, with what it carried. */
interface Sent {
  group: string;
  calls: number[];
  release: (fail?: Error) => void;
}

function batchOf(size: number, maxInflight?: number, keyOf?: (call: number) => string): { batch: TickBatch<number, number>; sent: Sent[] } {
  const sent: Sent[] = [];
  const batch = new TickBatch<number, number>(
    (group, calls) =>
      new Promise((resolve, reject) => {
        sent.push({ group, calls, release: (fail) => (fail ? reject(fail) : resolve(calls.map((c) => c * 10))) });
      }),
    size,
    maxInflight,
    keyOf,
  );
  return { batch, sent };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('TickBatch', () => {
  it('sends the calls of one tick in one command per group, in commands of at most size, each answered on its own', async () => {
    const { batch, sent } = batchOf(2);
    const answers = [batch.add('a', 1), batch.add('b', 2), batch.add('a', 3), batch.add('a', 4)];
    await turn();
    expect(sent.map((s) => [s.group, s.calls])).toEqual([['a', [1, 3]], ['a', [4]], ['b', [2]]]);
    for (const s of sent) s.release();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40]);
  });

  it('a command that fails rejects its own calls only', async () => {
    const { batch, sent } = batchOf(10);
    const a = batch.add('a', 1);
    const b = batch.add('b', 2);
    await turn();
    sent[0].release(new Error('boom'));
    sent[1].release();
    await expect(a).rejects.toThrow('boom');
    expect(await b).toBe(20);
  });

  it('with maxInflight 1, the calls made while a command is out go together once it is answered, in order, a command at a time', async () => {
    const { batch, sent } = batchOf(2, 1);
    const first = batch.add('a', 1);
    await turn();
    const later = [batch.add('a', 2), batch.add('b', 3)];
    await turn();
    later.push(batch.add('a', 4), batch.add('a', 5));
    await turn();
    expect(sent.map((s) => s.calls)).toEqual([[1]]);
    sent[0].release();
    expect(await first).toBe(10);
    await turn();
    // a command at a time: [2, 4] (the first two of group a), then [5], then group b
    expect(sent.map((s) => s.calls)).toEqual([[1], [2, 4]]);
    sent[1].release();
    await turn();
    expect(sent.map((s) => s.calls)).toEqual([[1], [2, 4], [5]]);
    sent[2].release();
    await turn();
    expect(sent.map((s) => [s.group, s.calls])).toEqual([['a', [1]], ['a', [2, 4]], ['a', [5]], ['b', [3]]]);
    sent[3].release();
    expect(await Promise.all(later)).toEqual([20, 30, 40, 50]);
  });

  it('with keyOf, a command carries each key once, and a call of a key in a command out waits for its answer', async () => {
    // the key of a call is its tens digit: 11 and 12 are one key
    const { batch, sent } = batchOf(10, Infinity, (c) => String(Math.floor(c / 10)));
    const answers = [batch.add('a', 11), batch.add('a', 21), batch.add('a', 12)];
    await turn();
    expect(sent.map((s) => s.calls)).toEqual([[11, 21]]);
    // 13 of the same key, asked while its command is out, waits too, after 12
    answers.push(batch.add('a', 13), batch.add('a', 31));
    await turn();
    expect(sent.map((s) => s.calls)).toEqual([[11, 21], [31]]);
    sent[0].release();
    await turn();
    expect(sent.map((s) => s.calls)).toEqual([[11, 21], [31], [12]]);
    sent[1].release();
    sent[2].release();
    await turn();
    expect(sent.map((s) => s.calls)).toEqual([[11, 21], [31], [12], [13]]);
    sent[3].release();
    expect(await Promise.all(answers)).toEqual([110, 210, 120, 130, 310]);
  });
});
