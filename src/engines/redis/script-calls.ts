/**
 * Script calls on one connection sent as EVALSHA commands built here. Once a script has run on a
 * connection's socket, a call skips ioredis's script wrapper, which copies the arguments three
 * times (rest parameters, `unshift`, the `evalsha` array), wraps each call in a closure and a second
 * promise, and whose command objects a round trip kept alive into the old generation during a
 * process's first seconds. The reply is the same (the same command class, strings).
 *
 * The first call on a socket, and a call answered NOSCRIPT (the server lost its scripts: SCRIPT
 * FLUSH, a restart, a failover), go through ioredis's defined command, which sends EVAL and so
 * loads the script (after a NOSCRIPT, ioredis, which took the socket for loaded, first sends
 * EVALSHA itself and sends EVAL on its own NOSCRIPT). A reconnect is a new socket, whose first
 * calls load it again.
 */
import { createHash } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import type { ScriptDef } from './lua-scripts';

/** A script called as `(keys, args)`. */
export type ScriptFn = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/** Options of every call: replies as strings, as ioredis's defined commands answer. */
const UTF8 = { replyEncoding: 'utf8' } as const;
/** Never changed: the constructor copies it. */
const NO_ARGS: string[] = [];

/** The scripts (by SHA1) that ran on each socket. */
const loadedOn = new WeakMap<object, Set<string>>();

function markLoaded(socket: object | undefined, sha: string): void {
  if (socket === undefined) return;
  let loaded = loadedOn.get(socket);
  if (loaded === undefined) loadedOn.set(socket, (loaded = new Set()));
  loaded.add(sha);
}

/**
 * The script `def` on `conn` (a single connection, not a cluster client), sent as EVALSHA once it
 * ran on the connection's socket; `viaIoredis` calls it through ioredis's defined command.
 */
export function directScript(conn: Redis, def: ScriptDef, viaIoredis: ScriptFn): ScriptFn {
  // what ioredis would add to a call: keys prefixed, a stack for errors
  if (conn.options.keyPrefix || conn.options.showFriendlyErrorStack) return viaIoredis;
  const sha = createHash('sha1').update(def.lua).digest('hex');
  const numKeys = String(def.keys);
  const loading: ScriptFn = (keys, args) => {
    const socket = conn.stream as object | undefined;
    const call = viaIoredis(keys, args);
    call.then(
      () => markLoaded(socket, sha),
      () => undefined,
    );
    return call;
  };
  return (keys, args) => {
    const socket = conn.stream as object | undefined;
    const loaded = socket === undefined ? undefined : loadedOn.get(socket);
    if (loaded === undefined || !loaded.has(sha)) return loading(keys, args);
    const n = keys.length;
    const argv = new Array<string>(2 + n + args.length);
    argv[0] = sha;
    argv[1] = numKeys;
    for (let i = 0; i < n; i++) argv[2 + i] = keys[i];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      argv[2 + n + i] = typeof a === 'string' ? a : String(a);
    }
    // the arguments are set after construction: the constructor would copy them (`flat()`) and
    // look at each for a Buffer or a number; they are all strings already
    const command = new Command('evalsha', NO_ARGS, UTF8);
    command.args = argv;
    void conn.sendCommand(command);
    return (command.promise as Promise<unknown>).then(undefined, (err: unknown) => {
      // the server's own error, not a script's error that mentions it (the script ran then)
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      loaded.delete(sha);
      return loading(keys, args);
    });
  };
}
