/**
 * The announcement of listeners that the PostgreSQL and RabbitMQ engines share: said at once, then
 * on a period while wanted and for the linger after; another process counts for `liveMs` after
 * it was heard.
 */
import { ListenBeacon, ListenBeaconOptions } from '../../src/engines/shared/listen-beacon';

function beacon(over: Partial<ListenBeaconOptions> = {}): { b: ListenBeacon; said: () => number; want: (w: boolean) => void } {
  let said = 0;
  let wanted = true;
  const b = new ListenBeacon({ periodMs: 1_000, liveMs: 3_500, lingerMs: 0, wanted: () => wanted, say: () => said++, ...over });
  return { b, said: () => said, want: (w) => (wanted = w) };
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

it('says it listens at once and every period while wanted, then stops', () => {
  const { b, said, want } = beacon();
  b.listen();
  expect(said()).toBe(1);
  expect(b.announcingSince).toBe(1_000_000);
  b.listen(); // already saying it
  expect(said()).toBe(1);
  jest.advanceTimersByTime(3_000);
  expect(said()).toBe(4);
  want(false);
  jest.advanceTimersByTime(5_000);
  expect(said()).toBe(4);
  expect(b.announcingSince).toBe(0);
  expect(jest.getTimerCount()).toBe(0);
  b.close();
});

it('keeps saying it for the linger after the last want', () => {
  const { b, said, want } = beacon({ lingerMs: 2_500 });
  want(false);
  b.listen();
  jest.advanceTimersByTime(5_000);
  // at once, then at 1 s and 2 s; at 3 s the linger is over
  expect(said()).toBe(3);
  expect(jest.getTimerCount()).toBe(0);
  b.close();
});

it('says it again on request only while listening', () => {
  const { b, said, want } = beacon();
  b.again();
  expect(said()).toBe(0);
  b.listen();
  b.again();
  expect(said()).toBe(2);
  want(false);
  jest.advanceTimersByTime(10);
  b.again();
  expect(said()).toBe(2);
  b.close();
});

it('counts another process as listening for liveMs after it was heard', () => {
  const { b } = beacon();
  expect(b.othersListen()).toBe(false);
  b.heard();
  jest.advanceTimersByTime(3_499);
  expect(b.othersListen()).toBe(true);
  jest.advanceTimersByTime(1);
  expect(b.othersListen()).toBe(false);
});

it('says nothing after close and leaves no timer', () => {
  const { b, said } = beacon();
  b.listen();
  b.close();
  jest.advanceTimersByTime(5_000);
  b.listen();
  expect(said()).toBe(1);
  expect(jest.getTimerCount()).toBe(0);
});
