/**
 * Which `Host` headers the web view answers. A page on another site can re-point its own DNS name at
 * 127.0.0.1 (DNS rebinding) and then read the web view as if it were that site: the only defence a
 * server has is to answer only the names it is really reached by. Those are the address it is bound
 * to, `localhost` / `127.0.0.1` / `[::1]`, each with the bound port, and the names an operator lists
 * in `allowedHosts` (for a proxy in front of it). Anything else, including a missing Host, is refused.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ErrorCodes, QTasksError } from '../errors';

/** Where the server listens and what else the operator allowed. */
export interface HostPolicy {
  /** The address the server is bound to (`127.0.0.1`, `::1`, `0.0.0.0`, a name). */
  boundHost: string;
  /** The port it listens on. */
  port: number;
  /** Extra names: `name` (any port) or `name:port`. */
  allowedHosts?: readonly string[];
}

/** A parsed Host header: lower-case name (IPv6 in brackets) and port (80 when absent). */
interface HostName {
  name: string;
  port: number;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '[::]', '']);

/** `Host` header → name and port, or undefined when it is not a well-formed `host[:port]`. */
export function parseHostHeader(header: string): HostName | undefined {
  const text = header.trim().toLowerCase();
  let name: string;
  let rest: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    name = text.slice(0, end + 1);
    rest = text.slice(end + 1);
    if (isIP(name.slice(1, -1)) !== 6) return undefined;
  } else {
    const colon = text.indexOf(':');
    name = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
    if (!/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(name)) return undefined;
  }
  if (rest === '') return { name, port: 80 };
  const m = /^:(\d{1,5})$/.exec(rest);
  if (!m) return undefined;
  const port = Number(m[1]);
  return port <= 65_535 ? { name, port } : undefined;
}

/** An address as it appears in a Host header (IPv6 in brackets), lower case. */
function asHostName(host: string): string {
  const h = host.trim().toLowerCase();
  return isIP(h) === 6 ? `[${h}]` : h;
}

/** Every address of this machine's interfaces, as Host names. */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(asHostName(a.address.replace(/%.*$/, '')));
  }
  return out;
}

/** Checks an `allowedHosts` list: names or `name:port`, as written in a Host header. */
export function validateAllowedHosts(list: unknown, source: string): string[] {
  if (!Array.isArray(list) || list.some((h) => typeof h !== 'string' || parseHostHeader(h) === undefined || h.trim() === '')) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `${source} must be a list of host names as a browser sends them ("queue.example.com", "queue.example.com:8443"), got ${JSON.stringify(list)}`);
  }
  return list.map((h: string) => h.trim().toLowerCase());
}

/**
 * Makes the check for one listening server.
 * @returns a function that is true when a request with that Host header may be answered.
 */
export function createHostCheck(policy: HostPolicy): (header: string | undefined) => boolean {
  const bound = asHostName(policy.boundHost);
  const exact = new Set<string>();
  const anyPort = new Set<string>();
  for (const name of [...LOOPBACK_NAMES, bound]) exact.add(`${name}:${policy.port}`);
  if (WILDCARDS.has(bound)) {
    // bound to every interface: the machine's own addresses are what it is reached by
    for (const name of localAddresses()) exact.add(`${name}:${policy.port}`);
  }
  for (const entry of policy.allowedHosts ?? []) {
    const parsed = parseHostHeader(entry);
    if (!parsed) continue;
    if (/:\d+$/.test(entry.replace(/^\[[^\]]*\]/, ''))) exact.add(`${parsed.name}:${parsed.port}`);
    else anyPort.add(parsed.name);
  }
  return (header) => {
    if (header === undefined) return false;
    const parsed = parseHostHeader(header);
    if (!parsed) return false;
    return exact.has(`${parsed.name}:${parsed.port}`) || anyPort.has(parsed.name);
  };
}
