/**
 * Hooks declared on a base class apply to the plugins that extend it; an overriding method keeps
 * the hook, and a method hooked again by the subclass keeps only the subclass's points.
 */
import 'reflect-metadata';
import { Hook, Plugin, Task, TaskEndPlugin } from 'qtasks';
import type { TaskEndHookEvent } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';

class Work {
  @Task({ name: 'inherit.ok' })
  ok() {
    return 1;
  }

  @Task({ name: 'inherit.fail' })
  fail(): never {
    throw new Error('no');
  }
}

class BaseAudit {
  log: string[] = [];
  @Hook('task:before') before(): void {
    this.log.push('base-before');
  }
  @Hook('task:success') success(): void {
    this.log.push('base-success');
  }
}

@Plugin()
class Audit extends BaseAudit {
  success(): void {
    this.log.push('sub-success');
  }
  @Hook('task:error') before(): void {
    this.log.push('sub-before-as-error');
  }
}

@Plugin()
class Ends extends TaskEndPlugin {
  statuses: string[] = [];
  protected onTaskEnd(e: TaskEndHookEvent): void {
    this.statuses.push(String(e.record.status));
  }
}

describe('plugin hooks through inheritance', () => {
  let app: TestApp;
  afterEach(async () => {
    await app.close();
  });

  it('runs base-class hooks, overrides included, and lets a subclass re-point a method', async () => {
    app = createTestApp({ name: 'inherit-hooks', config: { logLevel: 'silent' } });
    const audit = new Audit();
    app.register(Work).plugin(audit);
    await app.runTask('inherit.ok');
    await app.runTask('inherit.fail');
    expect(audit.log).toEqual(['sub-success', 'sub-before-as-error']);
  });

  it('TaskEndPlugin routes every end of an attempt to one method', async () => {
    app = createTestApp({ name: 'inherit-ends', config: { logLevel: 'silent' } });
    const ends = new Ends();
    app.register(Work).plugin(ends);
    await app.runTask('inherit.ok');
    await app.runTask('inherit.fail');
    expect(ends.statuses).toEqual(['success', 'error']);
  });
});
