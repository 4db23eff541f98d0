/**
 * The code a worker thread of the pool runs (piscina loads it). The thread talks to the app over
 * one port of its own, made as it starts and handed over through piscina's `message` event (a port
 * per job would cost more than a no-op task); every message names its job. A job's outcome is its
 * last message, so every log line before it arrives first.
 */
import 'reflect-metadata';
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { childSide } from './child-runner';
import { mapPackageToSources, preloadModules } from './module-loader';
import { ParentLink } from './parent-link';
import type { ChildMessage, Job, ParentMessage } from './protocol';

/** What travels on a thread's port: a message of one job. */
export interface ThreadEnvelope<M> {
  job: number;
  msg: M;
}

mapPackageToSources(__filename);

const links = new Map<number, ParentLink>();
const { port1: toApp, port2 } = new MessageChannel();
toApp.on('message', (e: ThreadEnvelope<ParentMessage>) => links.get(e.job)?.receive(e.msg));
// piscina keeps the thread alive while it works; this port must not keep it alive when idle
toApp.unref();
parentPort?.postMessage({ qtasksPort: port2 }, [port2]);

preloadModules((workerData as { qtasksPreload?: string[] } | undefined)?.qtasksPreload);

/** Runs one job in this thread. */
export default async function runJob({ job, id }: { job: Job; id: number }): Promise<null> {
  const post = (msg: ChildMessage): void => toApp.postMessage({ job: id, msg } satisfies ThreadEnvelope<ChildMessage>);
  const link = new ParentLink(post);
  links.set(id, link);
  try {
    post({ t: 'done', outcome: await childSide.run(job, link, 'thread') });
  } finally {
    links.delete(id);
  }
  return null;
}
