/**
 * The package as a user gets it: `npm pack`, installed into a fresh project (the tarball, and its
 * dependencies linked from this checkout's node_modules; the project's own TypeScript is 7, fetched
 * once into the npm cache), `tsc --init` plus the README's TypeScript setup, then the README's quick
 * start and typed example compiled under `strict` with TypeScript 5 (this repo's) and 7 and run, and
 * the `qtasks` command loading a `.ts` app of that project. Needs `npm run build` first (as `npm test`
 * does).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { readmeBlock } from '../support/readme';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** The TypeScript the fresh project installs for itself (the one with no JavaScript compiler API). */
const TS7 = '7.0.2';

let tmp: string;
let project: string;

/** Runs a command, failing the test with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `tsc --init` of the TypeScript at `tsc`, with the README's compiler options over it. */
function initTsconfig(tsc: string): void {
  rmSync(join(project, 'tsconfig.json'), { force: true });
  run(process.execPath, [tsc, '--init'], project);
  const parsed = ts.parseConfigFileTextToJson('tsconfig.json', readFileSync(join(project, 'tsconfig.json'), 'utf8'));
  const config = parsed.config as { compilerOptions: Record<string, unknown> };
  const readme = JSON.parse(readmeBlock('## TypeScript setup', 'json')) as { compilerOptions: Record<string, unknown> };
  config.compilerOptions = { ...config.compilerOptions, ...readme.compilerOptions, outDir: 'out', rootDir: 'src' };
  config.compilerOptions.strict = true;
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...config, include: ['src'] }, null, 2));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'qtasks-pack-'));
  const packed = join(tmp, 'pack');
  mkdirSync(packed);
  // dist/ is built by `npm test` (and by `prepare` at install from git); packing again would rebuild it
  execFileSync(NPM, ['pack', '--ignore-scripts', '--silent', '--pack-destination', packed], { cwd: ROOT, stdio: 'pipe' });
  project = join(tmp, 'app');
  mkdirSync(join(project, 'src'), { recursive: true });
  const link = (name: string) => `file:${realpathSync(join(ROOT, 'node_modules', name))}`;
  const dependencies: Record<string, string> = { qtasks: `file:${join(packed, `qtasks-${pkg.version}.tgz`)}` };
  for (const name of Object.keys(pkg.dependencies)) dependencies[name] = link(name);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, dependencies, devDependencies: { '@types/node': link('@types/node'), typescript: TS7 } }, null, 2),
  );
  // everything but TypeScript 7 is local; that one comes from the npm cache after the first run
  run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);
  writeFileSync(join(project, 'src', 'quickstart.ts'), readmeBlock('## Quick start', 'ts'));
  writeFileSync(join(project, 'src', 'typed.ts'), readmeBlock('### Typed enqueue', 'ts'));
  writeFileSync(
    join(project, 'src', 'app.ts'),
    [
      "import 'reflect-metadata';",
      "import { QTasks, Task, TaskContext } from 'qtasks';",
      'class Jobs {',
      "  @Task({ name: 'job.hello' }) hello(ctx: TaskContext, who: string) { return `${ctx.name}:${who}`; }",
      '}',
      "export const app = new QTasks({ name: 'fresh', discover: false }).register(Jobs);",
      '',
    ].join('\n'),
  );
  // validation needs class-validator and class-transformer, optional peers this project lacks
  writeFileSync(
    join(project, 'src', 'validate.ts'),
    [
      "import 'reflect-metadata';",
      "import { QTasks, QTasksError, Task } from 'qtasks';",
      'class SignUp { email!: string; }',
      "@Task({ name: 'signup', validate: [SignUp] }) class Signup { run(form: SignUp) { return form.email; } }",
      "const app = new QTasks({ name: 'peer', discover: false }).register(Signup);",
      'app.start().then(',
      "  () => { console.log('started'); return app.close(); },",
      '  (err: unknown) => { console.log(err instanceof QTasksError ? err.code : String(err)); return app.close(); },',
      ');',
      '',
    ].join('\n'),
  );
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the installed package holds dist/, LICENSE and the qtasks command, and no sources or tests', () => {
  const installed = join(project, 'node_modules', 'qtasks');
  const files = JSON.parse(run(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as { files: { path: string }[] }[];
  const paths = files[0].files.map((f) => f.path);
  expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']));
  expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('test/'))).toEqual([]);
  expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))).toMatchObject({ version: pkg.version });
  expect(run(join(project, 'node_modules', '.bin', 'qtasks'), ['--version'], project).trim()).toBe(pkg.version);
});

test('with TypeScript 5: the quick start and the typed example compile under strict and run', () => {
  initTsconfig(require.resolve('typescript/bin/tsc'));
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], project);
  expect(run(process.execPath, ['out/quickstart.js'], project, { QTASKS_LOG_LEVEL: 'warn' }).trim().split('\n')).toEqual(['3', '0', '1', '2']);
  expect(run(process.execPath, ['out/typed.js'], project, { QTASKS_LOG_LEVEL: 'warn' }).trim()).toBe('3 mail.send:a@b.c:hi 11');
}, 120_000);

test('with TypeScript 7 (the project\'s own): the same files compile under strict and run', () => {
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  expect(run(process.execPath, [tsc, '--version'], project)).toContain(TS7);
  initTsconfig(tsc);
  rmSync(join(project, 'out'), { recursive: true, force: true });
  run(process.execPath, [tsc, '-p', '.'], project);
  expect(run(process.execPath, ['out/quickstart.js'], project, { QTASKS_LOG_LEVEL: 'warn' }).trim().split('\n')).toEqual(['3', '0', '1', '2']);
  expect(run(process.execPath, ['out/typed.js'], project, { QTASKS_LOG_LEVEL: 'warn' }).trim()).toBe('3 mail.send:a@b.c:hi 11');
}, 120_000);

test('without class-validator installed, a task that validates fails at start() with QTASKS_ERR_PEER_MISSING', () => {
  expect(run(process.execPath, ['out/validate.js'], project, { QTASKS_LOG_LEVEL: 'warn' }).trim()).toBe('QTASKS_ERR_PEER_MISSING');
});

test('the qtasks command loads a .ts app of a project on TypeScript 7, with its injection', () => {
  const out = run(join(project, 'node_modules', '.bin', 'qtasks'), ['-A', 'src/app.ts', 'add', 'job.hello', '["ann"]', '--wait', '--local'], project, {
    QTASKS_LOG_LEVEL: 'warn',
  });
  expect(JSON.parse(out)).toMatchObject({ status: 'success', result: 'job.hello:ann' });
}, 60_000);
