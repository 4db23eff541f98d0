/**
 * The code a worker thread of the pool runs (piscina loads it): each job comes with a port to talk
 * to the app over; the outcome is its last message on that port, so every log line before it
 * arrives first.
 */
import 'reflect-metadata';
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { childSide } from './child-runner';
import { mapPackageToSources, preloadModules } from './module-loader';
import { ParentLink } from './parent-link';
import type { Job, ParentMessage } from './protocol';

mapPackageToSources(__filename);
preloadModules((workerData as { qtasksPreload?: string[] } | undefined)?.qtasksPreload);

/** Runs one job in this thread. */
export default async function runJob({ job, port }: { job: Job; port: MessagePort }): Promise<null> {
  const link = new ParentLink((m) => port.postMessage(m));
  port.on('message', (m: ParentMessage) => link.receive(m));
  try {
    const outcome = await childSide.run(job, link, 'thread');
    port.postMessage({ t: 'done', outcome });
  } finally {
    port.close();
  }
  return null;
}

