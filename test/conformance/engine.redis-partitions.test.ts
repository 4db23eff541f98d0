/**
 * The published suites (qtasks/conformance) on the Redis engine with each queue split over three
 * partitions (one Redis: the partitions only split the keys), on a fresh key prefix. Order and
 * retention hold within a partition: those cases give their tasks ids of one partition. The
 * named-queues suite is left out: it sends tasks from an app that does not list their queue (so
 * cannot know its partitions), which a partitioned queue does not allow.
 */
import { QTasks, QTasksOptions } from 'qtasks';
import {
  AppFactory,
  brokerConformance,
  ConformanceFeatures,
  contractConformance,
  coordinationConformance,
  describeManager,
  parityConformance,
  storageConformance,
} from 'qtasks/conformance';
import { partitionOf } from 'qtasks/redis';
import { deleteKeys, ensureRedis, REDIS_URL, testPrefix } from '../redis/redis-support';

const prefix = testPrefix('cp');
beforeAll(() => ensureRedis());

const app: AppFactory = ({ name, concurrency, config, queues }) =>
  new QTasks({
    name,
    redis: REDIS_URL,
    // every queue the app lists, and its own, on three partitions
    queues: Object.fromEntries([name, ...Object.keys(queues ?? {})].map((q) => [q, { partitions: 3, ...queues?.[q] }])),
    concurrency,
    discover: false,
    config: { logLevel: 'silent', ...config, prefix },
  });
const cleanup = (): Promise<void> => deleteKeys(prefix);
const features: ConformanceFeatures = { sharedQueue: true, sharedEvents: true, partitionOf: (id) => partitionOf(id, 3) };
const title = 'redis-partitions';

brokerConformance(title, app, cleanup, features);
storageConformance(title, app, cleanup, features);
contractConformance(title, app, cleanup, features);
parityConformance(title, app, cleanup, features);
coordinationConformance(title, app, cleanup, features);
describeManager({
  label: title,
  shared: true,
  make: (queue: string, options: QTasksOptions = {}) => app({ name: queue, concurrency: options.concurrency, config: options.config }) as QTasks,
  cleanup,
});
