/**
 * Plugin sample: an audit plugin that stamps arguments at enqueue, trims results at task:after,
 * counts how attempts end, and logs (never fails) when one of its own hooks throws.
 */
import 'reflect-metadata';
import { Hook, HookEvents, Plugin, QTasks, Task } from 'qtasks';

@Plugin()
class Audit {
  readonly ends: Record<string, number> = {};

  /** Adds the enqueue time to the arguments (kept in the record). */
  @Hook('task:enqueue')
  stamp(e: HookEvents['task:enqueue']) {
    return { args: [...e.args, { enqueuedBy: 'audit' }] };
  }

  /** Replaces the result: strings are trimmed. */
  @Hook('task:after')
  trim(e: HookEvents['task:after']) {
    return typeof e.result === 'string' ? { result: e.result.trim() } : undefined;
  }

  @Hook('task:success') success(e: HookEvents['task:success']) { this.count(e.record.status); }
  @Hook('task:error') error(e: HookEvents['task:error']) { this.count(e.record.status); }

  /** A hook that throws is logged and skipped; the task is not affected. */
  @Hook('task:before')
  fragile() {
    throw new Error('audit store unreachable');
  }

  private count(status: string) {
    this.ends[status] = (this.ends[status] ?? 0) + 1;
  }
}

class Greeter {
  @Task({ name: 'greet' })
  greet(name: string, meta: { enqueuedBy: string }) {
    return `  hello ${name} (${meta.enqueuedBy})  `;
  }

  @Task({ name: 'greet.fail' })
  fail() {
    throw new Error('no greeting today');
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  const audit = new Audit();
  const app = new QTasks({ name: 'sample-plugins', discover: false, config: { logLevel: 'silent' } });
  app.register(Greeter).plugin(audit);
  await app.start();
  const greeting = await (await app.addTask('greet', ['ada'])).result({ timeout: 2_000 });
  log(`greet = ${JSON.stringify(greeting)}`);
  await (await app.addTask('greet.fail')).result({ timeout: 2_000 }).catch(() => undefined);
  log(`attempt ends: ${JSON.stringify(audit.ends)}`);
  await app.close();
  return { greeting, ends: audit.ends };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
