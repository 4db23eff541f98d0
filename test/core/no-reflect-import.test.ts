/**
 * Importing qtasks is enough: the package loads reflect-metadata itself, so decorated classes work
 * in a module that never imports it (this file does not, on purpose).
 */
import { QTasks, Task, TaskContext } from 'qtasks';

class Plain {
  @Task({ name: 'nr.ctx' })
  run(ctx: TaskContext, x: number) {
    return `${ctx.name}:${x}`;
  }
}

it('decorators and type-based injection work without importing reflect-metadata', async () => {
  const app = new QTasks({ name: `nr-${Date.now()}`, discover: false, config: { logLevel: 'silent' } }).register(Plain);
  try {
    await app.start();
    expect(await (await app.addTask('nr.ctx', [1])).result({ timeout: 2_000 })).toBe('nr.ctx:1');
  } finally {
    await app.close();
  }
});
