/**
 * Who may act through the web view: reading is open (the server binds to 127.0.0.1 by default),
 * actions need the token in `Authorization: Bearer <token>` or `x-qtasks-token`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCodes } from '../errors';
import { HttpError } from './http-error';

/** A random token for a web view started without one. */
export function randomToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The token a request carries, if any. */
export function requestToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1].trim();
  }
  const header = req.headers['x-qtasks-token'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** True when the request carries the right token. */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = requestToken(req);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Throws 401 without a token and 403 with a wrong one. */
export function requireToken(req: IncomingMessage, token: string): void {
  if (requestToken(req) === undefined) {
    throw new HttpError(
      401,
      ErrorCodes.WEB_UNAUTHORIZED,
      'This action needs the web view token: send "Authorization: Bearer <token>" (the token is printed when the web view starts, or set with --token)',
    );
  }
  if (!hasToken(req, token)) throw new HttpError(403, ErrorCodes.WEB_FORBIDDEN, 'The token is wrong: use the one printed when the web view started');
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for an address only this machine reaches. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}
