/**
 * Code compiled without the options qtasks needs fails at import with `QTASKS_ERR_TSCONFIG`
 * (real TypeScript output, evaluated here), and a qtasks class imported with `import type` into a
 * decorated signature is refused by the CLI's loader with `QTASKS_ERR_TYPE_ONLY_IMPORT`.
 */
import * as swc from '@swc/core';
import * as ts from 'typescript';
import * as qtasks from 'qtasks';
import { ErrorCodes } from 'qtasks';
import { compileTypeScript } from '../../src/cli/ts-loader';
import { typeOnlyInjections } from '../../src/cli/type-only-imports';

/** Compiles `source` with these options and runs it against this qtasks; returns what it threw. */
function importWith(source: string, options: ts.CompilerOptions): unknown {
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, ...options },
  }).outputText;
  const exports = {};
  const req = (id: string) => {
    if (id === 'qtasks') return qtasks;
    throw new Error(`unexpected require ${id}`);
  };
  try {
    new Function('require', 'exports', js)(req, exports);
  } catch (err) {
    return err;
  }
  return undefined;
}

const METHOD_TASK = `
import { Task, TaskContext } from 'qtasks';
export class Mailer {
  @Task({ name: 'cc.send' })
  send(ctx: TaskContext, to: string) { return ctx.name + to; }
}`;

const CLASS_TASK = `
import { Task, TaskContext } from 'qtasks';
@Task({ name: 'cc.run' })
export class Job {
  constructor(private ctx: TaskContext) {}
  run(n: number) { return this.ctx.name + n; }
}`;

const STATE = `
import { State, StateStore } from 'qtasks';
@State()
export class Counter extends StateStore<{ n: number }> {}`;

test('without experimentalDecorators: every decorator kind throws QTASKS_ERR_TSCONFIG at import', () => {
  for (const source of [METHOD_TASK, CLASS_TASK, STATE]) {
    const err = importWith(source, { experimentalDecorators: false });
    expect(err).toBeInstanceOf(qtasks.QTasksError);
    expect(err).toMatchObject({ code: ErrorCodes.TSCONFIG });
  }
});

test('without emitDecoratorMetadata: a task that injects throws QTASKS_ERR_TSCONFIG at import', () => {
  expect(importWith(METHOD_TASK, { experimentalDecorators: true })).toMatchObject({ code: ErrorCodes.TSCONFIG });
  expect(importWith(CLASS_TASK, { experimentalDecorators: true })).toMatchObject({ code: ErrorCodes.TSCONFIG });
});

test('with both options the same modules import cleanly; without metadata, @Inject or the class form still work', () => {
  for (const source of [METHOD_TASK, CLASS_TASK, STATE]) {
    expect(importWith(source, { experimentalDecorators: true, emitDecoratorMetadata: true })).toBeUndefined();
  }
  const injected = `
import { Inject, Task, TaskContext } from 'qtasks';
export class Mailer { @Task({ name: 'cc.inject' }) send(@Inject(TaskContext) ctx: TaskContext, to: string) { return to; } }
@Task({ name: 'cc.args' }) export class Add { run(a: number, b: number) { return a + b; } }`;
  expect(importWith(injected, { experimentalDecorators: true })).toBeUndefined();
});

test('the CLI loader finds qtasks classes imported with import type into decorated signatures', () => {
  const cases: [string, string[]][] = [
    [`import type { TaskContext } from 'qtasks';\nimport { Task } from 'qtasks';\nexport class M { @Task() send(ctx: TaskContext, to: string) { return to; } }`, ['TaskContext']],
    [`import { Task, type Logger as Log } from 'qtasks';\nexport class M { @Task() send(log: Log, to: string) { return to; } }`, ['Log']],
    // a value import keeps its metadata
    [`import { Task, TaskContext } from 'qtasks';\nexport class M { @Task() send(ctx: TaskContext, to: string) { return to; } }`, []],
    // a type-only import used outside decorated signatures is fine
    [`import type { TaskContext } from 'qtasks';\nexport function f(ctx: TaskContext) { return ctx.id; }`, []],
  ];
  for (const [source, lost] of cases) {
    expect(typeOnlyInjections(source, compileTypeScript(swc, source, '/app/x.ts'))).toEqual(lost);
  }
});

test('a .ts module that does not compile is QTASKS_ERR_CLI_COMPILE', () => {
  expect(() => compileTypeScript(swc, 'export const = 1;', '/app/broken.ts')).toThrow(
    expect.objectContaining({ code: ErrorCodes.CLI_COMPILE }),
  );
});
