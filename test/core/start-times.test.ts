/**
 * Start and end times of tasks run one after another in one burst: the in-memory engine starts a
 * task at the end time of the one before it when nothing but the engine ran in between, so these
 * check that whatever else ran in between (a listener, the rest of another task's code) is never
 * counted as the next task's wait.
 */
import 'reflect-metadata';
import { MemoryBroker, MemoryStorage, QTasks, Task, TaskContext } from 'qtasks';

const SPIN_MS = 30;
/** The broker of the running app, as user code may hold it. */
let broker: MemoryBroker;

/** Keeps the thread busy for `ms` (no timer: the point is code running between two tasks). */
function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

class ClockTasks {
  @Task({ name: 'st.add' })
  add(a: number, b: number) {
    return a + b;
  }

  /** Runs until its signal is aborted. */
  @Task({ name: 'st.wait' })
  async wait(ctx: TaskContext) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return 'woke';
  }

  /**
   * Cancels another running task through the broker (it ends at once), keeps the thread busy, then
   * ends later; a plain task, so its body runs within its start.
   */
  @Task({ name: 'st.cancelThenSpin' })
  cancelThenSpin(victim: string) {
    void broker.cancel(victim, 'from a sibling');
    spin(SPIN_MS);
    return new Promise((resolve) => setTimeout(() => resolve('done'), 1));
  }
}

describe('start times of tasks run in one burst', () => {
  let app: QTasks;
  afterEach(() => app.close());

  it('a task:success listener that runs between two tasks is not the next task\'s run time or wait', async () => {
    app = new QTasks({ name: `st-l-${Date.now()}`, discover: false, concurrency: 1, config: { logLevel: 'silent' } });
    app.register(ClockTasks);
    app.on('task:success', () => spin(SPIN_MS));
    // queued before the worker starts: one burst runs both
    const a = await app.addTask('st.add', [1, 2]);
    const b = await app.addTask('st.add', [3, 4]);
    await app.start();
    await Promise.all([a.result(), b.result()]);
    const ra = (await app.getTask(a.id))!;
    const rb = (await app.getTask(b.id))!;
    expect(rb.startedAt!).toBeGreaterThanOrEqual(ra.finishedAt! + SPIN_MS);
  });

  it('another task ended by a task\'s own code does not set the start of the task after it', async () => {
    broker = new MemoryBroker();
    app = new QTasks({ name: `st-c-${Date.now()}`, discover: false, concurrency: 3, broker, storage: new MemoryStorage(), config: { logLevel: 'silent' } });
    app.register(ClockTasks);
    const victim = await app.addTask('st.wait');
    const killer = await app.addTask('st.cancelThenSpin', [victim.id]);
    const next = await app.addTask('st.add', [1, 2]);
    // the killer's body: the cancel ends the victim at once, then its code goes on for SPIN_MS
    await app.start();
    await Promise.all([victim.result().catch(() => undefined), killer.result(), next.result()]);
    const rk = (await app.getTask(killer.id))!;
    const rn = (await app.getTask(next.id))!;
    expect(rn.startedAt!).toBeGreaterThanOrEqual(rk.startedAt! + SPIN_MS);
  });
});
