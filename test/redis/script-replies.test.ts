/**
 * The short replies of the add and finish scripts (0 for no list, the claimed tasks alone) read as
 * the full ones.
 */
import { addReply } from '../../src/engines/redis/enqueue-call';
import { finishReply } from '../../src/engines/redis/finish-batch';

describe('Redis script replies', () => {
  it('reads the add reply 0 as nothing existing and nothing claimed', () => {
    expect(addReply(0)).toEqual([[], []]);
  });

  it('reads an add reply that starts with an id as the claimed tasks alone', () => {
    expect(addReply(['a', '{"seq":1}', 1])).toEqual([[], ['a', '{"seq":1}', 1]]);
  });

  it('reads a full add reply as it is', () => {
    const full = [[0, ['d', '{"seq":1}', 'st', 'success']], ['b', '{"seq":2}', 1]];
    expect(addReply(full)).toEqual(full);
  });

  it('reads the finish reply with 0 for its claimed tasks as none claimed', () => {
    expect(finishReply(['1', 0, '', -1, ''])).toEqual({ flags: '1', claimed: [], next: '', remote: -1, ls: '' });
    expect(finishReply(['10', ['a', '{"seq":1}', '1'], '17', 0, 'm'])).toEqual({ flags: '10', claimed: ['a', '{"seq":1}', '1'], next: '17', remote: 0, ls: 'm' });
  });
});
