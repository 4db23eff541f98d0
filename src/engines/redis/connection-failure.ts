/**
 * Says why Redis could not be reached, for `QTASKS_ERR_BROKER_UNAVAILABLE`: where the engine tried
 * (the URL without its password, or host:port) and the cause seen on the socket (refused, unknown
 * host, timed out, authentication, TLS) instead of a bare timeout.
 */
import type { RedisConnectionInput } from './redis-link';

/** Why a connection failed, in a word a program can match (`error.details.reason`). */
export type ConnectionFailureReason = 'refused' | 'unknown-host' | 'timeout' | 'auth' | 'tls' | 'reset' | 'unknown';

/** The URL without its password (error messages end up in logs). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Where the engine connects, for messages: a redacted URL, host:port, or the cluster's nodes. */
export function describeTarget(input: RedisConnectionInput): string {
  if (typeof input === 'string') return redactUrl(input);
  if (Array.isArray(input.cluster)) return `cluster ${input.cluster.map((n) => `${n.host}:${n.port}`).join(', ')}`;
  if (typeof input.url === 'string') return redactUrl(input.url);
  const host = typeof input.host === 'string' ? input.host : '127.0.0.1';
  const port = typeof input.port === 'number' ? input.port : 6379;
  return typeof input.path === 'string' ? input.path : `${host}:${port}`;
}

/** Classifies the last socket or handshake error of a connection. */
export function failureReason(err: unknown): { reason: ConnectionFailureReason; text: string } {
  const e = err as { code?: unknown; message?: unknown; hostname?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err ?? '');
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return { reason: 'refused', text: 'connection refused (is Redis running on that host and port?)' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) {
    const host = typeof e?.hostname === 'string' ? ` ${e.hostname}` : '';
    return { reason: 'unknown-host', text: `unknown host${host} (the name does not resolve)` };
  }
  if (/WRONGPASS|NOAUTH|invalid password|AUTH/i.test(message)) return { reason: 'auth', text: `authentication failed (${message})` };
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|connect timeout/i.test(message)) return { reason: 'timeout', text: 'the connection timed out (host unreachable or a firewall drops it)' };
  if (/SSL|TLS|certificate|wrong version number/i.test(message)) return { reason: 'tls', text: `TLS failed (${message}); rediss:// needs a TLS port, redis:// a plain one` };
  if (code === 'ECONNRESET' || /ECONNRESET|Socket closed/i.test(message)) return { reason: 'reset', text: 'the connection was reset (is that port a Redis server?)' };
  return { reason: 'unknown', text: message ? `no connection yet (${message})` : 'no connection yet' };
}
