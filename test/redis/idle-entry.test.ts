import { IdleEntry } from '../../src/engines/redis/idle-entry';

describe('IdleEntry (whether a worker may be among the idle workers)', () => {
  it('is unknown at first, and known absent once a call that claims nothing is answered with no claim around it', () => {
    const e = new IdleEntry();
    expect(e.mayExist).toBe(true);
    const t = e.sent(0);
    e.answered(0, t);
    expect(e.mayExist).toBe(false);
  });

  it('may exist again as soon as a claiming call is sent', () => {
    const e = new IdleEntry();
    e.answered(0, e.sent(0));
    e.sent(2);
    expect(e.mayExist).toBe(true);
  });

  it('proves nothing with a call sent while a claiming call was in flight (the two may run in either order)', () => {
    const e = new IdleEntry();
    e.sent(2);
    const t = e.sent(0);
    e.answered(2, -1);
    e.answered(0, t);
    expect(e.mayExist).toBe(true);
  });

  it('proves nothing with a call answered after a claiming call was sent', () => {
    const e = new IdleEntry();
    const t = e.sent(0);
    e.sent(1);
    e.answered(0, t);
    expect(e.mayExist).toBe(true);
  });

  it('knows nothing after a failed call, even from a call sent before the failure', () => {
    const e = new IdleEntry();
    e.answered(0, e.sent(0));
    const t = e.sent(0);
    const c = e.sent(0);
    e.failed(0);
    e.answered(0, t);
    expect(e.mayExist).toBe(true);
    e.answered(0, c);
    expect(e.mayExist).toBe(true);
    e.answered(0, e.sent(0));
    expect(e.mayExist).toBe(false);
  });
});
