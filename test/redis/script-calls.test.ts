/**
 * Script calls on one connection: once a script ran on a connection's socket, calls are sent as
 * EVALSHA commands built by the engine; the first call on a socket, and a call answered NOSCRIPT
 * (the server lost its scripts), go through ioredis's command, which sends EVAL. Every call
 * answers as the script does.
 */
import IORedis, { Command } from 'ioredis';
import { directScript, ScriptFn } from '../../src/engines/redis/script-calls';
import { ensureRedis, REDIS_URL, sleep } from './redis-support';

describe('Redis script calls', () => {
  let conn: IORedis;
  /** The commands written, by name as sent (EVAL or EVALSHA). */
  let sent: string[];
  /** Answers the next EVALSHA as a server that lost its scripts would. */
  let loseNext = false;

  beforeAll(ensureRedis);
  beforeEach(async () => {
    conn = new IORedis(REDIS_URL, { maxRetriesPerRequest: 0 });
    await new Promise<void>((resolve) => conn.once('ready', () => resolve()));
    sent = [];
    loseNext = false;
    const send = conn.sendCommand.bind(conn);
    jest.spyOn(conn, 'sendCommand').mockImplementation((command: Command, stream?: Parameters<IORedis['sendCommand']>[1]) => {
      if (loseNext && command.name === 'evalsha') {
        loseNext = false;
        sent.push('evalsha (NOSCRIPT)');
        command.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
        return command.promise;
      }
      const out = send(command, stream);
      if (command.name === 'eval' || command.name === 'evalsha') sent.push(command.name);
      return out;
    });
  });
  afterEach(() => conn.disconnect());

  /** A script of its own (a fresh SHA1) answering its key and arguments, as the engine calls it. */
  function echo(): ScriptFn {
    const lua = `-- ${process.pid} ${Date.now()} ${Math.random()}\nreturn {KEYS[1], ARGV[1], ARGV[2]}`;
    conn.defineCommand('qt_echo', { numberOfKeys: 1, lua });
    const method = (conn as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).qt_echo.bind(conn);
    return directScript(conn, { name: 'echo', keys: 1, lua }, (keys, args) => method(...keys, ...args));
  }

  it('sends EVAL first on a connection, then EVALSHA, with the same answers', async () => {
    const call = echo();
    await expect(call(['k1'], ['a', 1])).resolves.toEqual(['k1', 'a', '1']);
    await expect(call(['k2'], ['b', 2.5])).resolves.toEqual(['k2', 'b', '2.5']);
    await expect(Promise.all([call(['k3'], ['', -1]), call(['k4'], ['d', 0])])).resolves.toEqual([
      ['k3', '', '-1'],
      ['k4', 'd', '0'],
    ]);
    expect(sent).toEqual(['eval', 'evalsha', 'evalsha', 'evalsha']);
  });

  it('loads the script again when a call is answered NOSCRIPT, and answers that call', async () => {
    const call = echo();
    await call(['k'], ['a', 1]);
    loseNext = true;
    await expect(call(['k'], ['b', 2])).resolves.toEqual(['k', 'b', '2']);
    await expect(call(['k'], ['c', 3])).resolves.toEqual(['k', 'c', '3']);
    expect(sent[0]).toBe('eval');
    expect(sent[1]).toBe('evalsha (NOSCRIPT)');
    // the call went through ioredis's command; later calls are EVALSHA again
    expect(sent[sent.length - 1]).toBe('evalsha');
  });

  it('sends EVAL again on a new socket (after a reconnect)', async () => {
    const call = echo();
    await call(['k'], ['a', 1]);
    await call(['k'], ['b', 2]);
    conn.disconnect(true);
    await new Promise<void>((resolve) => conn.once('ready', () => resolve()));
    await sleep(10);
    await expect(call(['k'], ['c', 3])).resolves.toEqual(['k', 'c', '3']);
    expect(sent).toEqual(['eval', 'evalsha', 'eval']);
  });

  it('runs a script once when its own error only mentions NOSCRIPT', async () => {
    const key = `qt-script-calls:${process.pid}:${Date.now()}`;
    const lua = `-- ${Math.random()}\nredis.call('INCR', KEYS[1])\nif ARGV[1] == 'fail' then return redis.error_reply('ERR task "NOSCRIPT" is bad') end\nreturn 1`;
    conn.defineCommand('qt_count', { numberOfKeys: 1, lua });
    const method = (conn as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).qt_count.bind(conn);
    const call = directScript(conn, { name: 'count', keys: 1, lua }, (keys, args) => method(...keys, ...args));
    try {
      await call([key], ['ok']);
      sent = [];
      await expect(call([key], ['fail'])).rejects.toThrow('is bad');
      expect(sent).toEqual(['evalsha']);
      expect(await conn.get(key)).toBe('2');
    } finally {
      await conn.del(key);
    }
  });

  it('rejects with the script error of a failing script, as ioredis does', async () => {
    const lua = `-- ${Math.random()}\nreturn redis.error_reply('ERR no such thing')`;
    conn.defineCommand('qt_fail', { numberOfKeys: 0, lua });
    const method = (conn as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).qt_fail.bind(conn);
    const call = directScript(conn, { name: 'fail', keys: 0, lua }, (keys, args) => method(...keys, ...args));
    await expect(call([], [])).rejects.toThrow('ERR no such thing');
    await expect(call([], [])).rejects.toThrow('ERR no such thing');
    expect(sent).toEqual(['eval', 'evalsha']);
  });
});
