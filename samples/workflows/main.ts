/**
 * Workflow sample: a chain that passes each result on, a chord (a group, then a step over the list
 * of its results), a flow whose parent runs after its children and reads their results, and a
 * task that adds children and waits for them with `self.waitChildren()` on a worker of concurrency 1
 * (it gives its slot back while it waits, so its children run).
 */
import 'reflect-metadata';
import { chain, flow, group, QTasks, step, Task, TaskContext, TaskSelf } from 'qtasks';

class Pipeline {
  @Task({ name: 'fetch' })
  fetch(url: string): string {
    return `<html>${url}</html>`;
  }

  @Task({ name: 'parse' })
  parse(html: string): number {
    return html.length;
  }

  @Task({ name: 'store' })
  store(table: string, size: number): string {
    return `${table}:${size}`;
  }

  @Task({ name: 'square' })
  square(n: number): number {
    return n * n;
  }

  @Task({ name: 'sum' })
  sum(list: number[]): number {
    return list.reduce((a, b) => a + b, 0);
  }

  @Task({ name: 'sumOfSquares', echo: true })
  async sumOfSquares(self: TaskSelf, ns: number[]): Promise<number> {
    for (const n of ns) await self.addTask('square', [n]);
    // status 'waiting', no worker slot held, until the children ended; then their results in order
    const squares = await self.waitChildren<number>();
    return squares.reduce((a, b) => a + b, 0);
  }

  @Task({ name: 'report' })
  async report(ctx: TaskContext, title: string): Promise<string> {
    const parts = (await ctx.childResults()) as number[];
    return `${title}: ${parts.join(' + ')}`;
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  const app = new QTasks({ name: 'sample-workflows', concurrency: 1, discover: false, config: { logLevel: 'warn' } });
  app.register(Pipeline);
  await app.start();

  // fetch → parse → store: each step gets the previous result as its last argument
  const stored = await (await app.run(chain(step('fetch', ['example.com']), step('parse'), step('store', ['pages'])))).result();
  log(`chain: ${stored}`);

  // a chord: the squares in parallel, then their sum
  const total = await (await app.run(chain(group([1, 2, 3].map((n) => step('square', [n]))), step('sum')))).result();
  log(`chord: ${total}`);

  // a flow: children first, then the parent with ctx.childResults()
  const report = await (await app.run(flow({ name: 'report', args: ['squares'], children: [2, 4].map((n) => ({ name: 'square', args: [n] })) }))).result();
  log(`flow: ${report}`);

  // a task that waits for the children it added: one slot is enough for the parent and its children
  const waited = await (await app.addTask('sumOfSquares', [[1, 2, 3]])).result({ timeout: 10_000 });
  log(`waitChildren: ${waited}`);

  await app.close();
  return { stored, total, report, waited };
}

if (require.main === module) void main();
