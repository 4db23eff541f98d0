/**
 * Checks what a user passed as the Redis connection before anything connects: a URL of another
 * scheme, a node list under a name it does not read or a malformed cluster list are refused with
 * `QTASKS_ERR_BAD_OPTION` at construction, instead of quietly connecting to 127.0.0.1:6379.
 */
import { ErrorCodes, QTasksError } from '../../errors';
import type { RedisConnectionInput } from './redis-link';

/** Throws `QTASKS_ERR_BAD_OPTION` for a connection this engine cannot honour. */
export function checkRedisConnection(input: RedisConnectionInput): void {
  if (typeof input === 'string') return checkUrl(input);
  if (input === null || typeof input !== 'object') {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `The Redis connection must be a URL or ioredis options, got ${input === null ? 'null' : typeof input}`);
  }
  for (const key of ['clusterNodes', 'startupNodes', 'nodes']) {
    if (input[key] !== undefined) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `Redis option "${key}" is not one qtasks reads: a Redis Cluster is given as cluster: [{ host, port }, …]`, {
        details: { option: key, closest: 'cluster' },
      });
    }
  }
  if (input.partitions !== undefined) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, 'Redis option "partitions" is not one qtasks reads: partitions are set per queue, on producers and workers alike: new QTasks({ queues: { <name>: { partitions } } })', {
      details: { option: 'partitions', closest: 'queues' },
    });
  }
  const cluster = input.cluster as unknown;
  if (cluster !== undefined && !(Array.isArray(cluster) && cluster.length > 0 && cluster.every(isNode))) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, 'Redis option "cluster" must be a non-empty list of nodes: cluster: [{ host, port }, …]', {
      details: { option: 'cluster' },
    });
  }
  if (typeof input.url === 'string') checkUrl(input.url);
}

function isNode(n: unknown): boolean {
  return n !== null && typeof n === 'object' && typeof (n as { host?: unknown }).host === 'string' && Number.isInteger((n as { port?: unknown }).port);
}

function checkUrl(url: string): void {
  // another scheme (postgres://, amqp://…) would be parsed by ioredis as some Redis address
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^rediss?:\/\//i.test(url)) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `Redis URL ${JSON.stringify(redact(url))} must start with redis:// or rediss://`, {
      details: { option: 'redis' },
    });
  }
}

/** The URL without its password (error messages end up in logs). */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
