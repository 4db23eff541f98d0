/**
 * The in-memory engine's factory for the conformance suites: apps made with one queue name share
 * one MemoryBroker and MemoryStorage, as apps of one queue share Redis.
 */
import 'reflect-metadata';
import { MemoryBroker, MemoryStorage, QTasks } from 'qtasks';
import type { AppFactory } from 'qtasks/conformance';

const engines = new Map<string, { broker: MemoryBroker; storage: MemoryStorage }>();

/** Builds an in-memory app; a second app of the same name shares the first one's engine. */
export const memoryApp: AppFactory = ({ name, concurrency, config, queues }) => {
  let engine = engines.get(name);
  if (!engine) engines.set(name, (engine = { broker: new MemoryBroker(), storage: new MemoryStorage() }));
  return new QTasks({ name, concurrency, config, queues, discover: false, ...engine });
};

/** Forgets the engines of closed apps. */
export async function forgetMemoryEngines(): Promise<void> {
  engines.clear();
}
