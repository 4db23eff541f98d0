/**
 * The broker and storage a task sees inside a thread or process: shared state goes to the app's
 * storage through the job running now; items, progress and the end go to that job; the rest of the
 * engine is not there and says so.
 */
import { Broker, Outcome } from '../engine/broker';
import { Storage } from '../engine/storage';
import type { TaskRecord } from '../task/task-record';
import { notInChild, ParentLink } from './parent-link';
import { fingerprint } from './run-bridge';

/** An object of class `base` whose other members throw `QTASKS_ERR_UNSUPPORTED`. */
function partial<T extends object>(base: abstract new (...a: never[]) => T, label: string, own: Partial<Record<keyof T, unknown>>): T {
  const target = Object.assign(Object.create(base.prototype) as T, own);
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop in t || typeof prop === 'symbol' || prop === 'then') return Reflect.get(t, prop, receiver);
      return () => {
        throw notInChild(`${label}.${prop}()`);
      };
    },
  });
}

/** The storage of the thread: state calls go to the app, through the job running now. */
export function remoteStorage(link: () => ParentLink | undefined): Storage {
  const call = (args: unknown[]): Promise<unknown> => {
    const l = link();
    if (l === undefined) return Promise.reject(notInChild('State used outside a run'));
    return l.call('state', args);
  };
  return partial(Storage, 'ctx.storage', {
    recordWriter: undefined,
    stateGet: (state: string, key: string) => call(['get', state, key]),
    stateSet: async (state: string, key: string, value: unknown) => {
      await call(['set', state, key, value]);
    },
    stateIncr: (state: string, key: string, by: number) => call(['incr', state, key, by]),
    stateDelete: (state: string, key: string) => call(['delete', state, key]),
    stateAll: (state: string) => call(['all', state]),
    appendLog: async (_id: string, line: unknown) => {
      const l = link();
      if (l === undefined) throw notInChild('ctx.log() outside a run');
      await l.call('log', [line]);
    },
    stateUpdate: async (state: string, key: string, fn: (value: unknown) => unknown) => {
      // compare-and-set: fn runs here, the app writes only if nobody changed the value meanwhile
      let current = await call(['get', state, key]);
      for (;;) {
        const next = fn(current);
        const r = (await call(['cas', state, key, fingerprint(current), next])) as { ok: boolean; current?: unknown };
        if (r.ok) return next;
        current = r.current;
      }
    },
  });
}

/** The broker's optional capabilities, absent here (so that the core takes its plain paths). */
const NO_CAPABILITIES = { immediate: undefined, finishThen: undefined, whenFinal: undefined, newId: undefined, listenersChanged: undefined, controlWorker: undefined, pushItems: undefined };

/** The broker of one job: items and progress go to the app, `finish` ends the job with its outcome. */
export function jobBroker(link: ParentLink, finish: (outcome: Outcome) => void): Broker {
  return partial(Broker, 'ctx.broker', {
    ...NO_CAPABILITIES,
    pushItem: (_rec: TaskRecord, item: unknown) => link.call('item', [item]),
    // the items a generator yielded while the last call was out, in one message
    pushItems: async (_rec: TaskRecord, items: unknown[]) => {
      await link.call('items', [items]);
    },
    progress: async (_rec: TaskRecord, value: unknown) => {
      await link.call('progress', [value]);
    },
    finish: async (_rec: TaskRecord, outcome: Outcome) => {
      finish(outcome);
      return undefined;
    },
  });
}

/** The broker token inside a thread or process: nothing of it is there. */
export function absentBroker(): Broker {
  return partial(Broker, 'ctx.broker', { ...NO_CAPABILITIES });
}
