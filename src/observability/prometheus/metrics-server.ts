/**
 * The `/metrics` endpoint: a request handler for any Node HTTP server (or Express), and a small
 * server of its own.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A `(req, res)` handler that answers with the registry's metrics in the Prometheus text format. */
export function metricsHandler(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`metrics failed: ${(err as Error).message}`);
      },
    );
  };
}

/** Options of {@link serveMetrics}. */
export interface MetricsServerOptions {
  /** Port (default 9464; 0 picks a free one). */
  port?: number;
  host?: string;
  /** Path served (default `/metrics`); anything else is 404. */
  path?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  readonly server: Server;
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts an HTTP server exposing `registry` at `/metrics`. */
export async function serveMetrics(registry: Registry, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const path = options.path ?? '/metrics';
  const handle = metricsHandler(registry);
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] === path && (req.method === 'GET' || req.method === 'HEAD')) return handle(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
