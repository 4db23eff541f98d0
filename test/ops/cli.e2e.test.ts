/**
 * The built CLI end to end (`node dist/cli/main.js`, built by `npm test` / `npm run build`):
 * add --wait --local, inspect, bulk add from a file, purge, web, run + SIGTERM, and the errors of
 * a missing module or export.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const APP = 'samples/basic/app.ts';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, QTASKS_LOG_LEVEL: 'warn', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

function cli(args: string[], env?: Record<string, string>): Promise<Run> {
  return start(args, env).done;
}

async function waitForOutput(get: () => string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(get());
    if (m) return m;
    if (Date.now() > end) throw new Error(`No ${pattern} in the CLI output within ${timeoutMs} ms; it printed:\n${get()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('qtasks CLI (built)', () => {
  let tmp: string;
  const running: ChildProcess[] = [];

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
    tmp = mkdtempSync(join(tmpdir(), 'qtasks-cli-'));
  });

  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(() => {
    for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('adds a task, runs it locally and prints its result', async () => {
    const r = await cli(['-A', APP, 'add', 'add', '[1, 2]', '--wait', '--local']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', result: 3 });
  });

  it('inspects the queue as JSON and as tables', async () => {
    const json = await cli(['-A', APP, 'inspect', '--json']);
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout) as { queue: string; paused: boolean; counts: Record<string, number>; workers: unknown[] };
    expect(data).toMatchObject({ queue: 'basic', paused: false, workers: [] });
    expect(Object.keys(data.counts).sort()).toEqual(['cancel', 'delayed', 'error', 'new', 'process', 'retry', 'success', 'waiting']);
    const table = await cli(['-A', APP, 'inspect']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/new\s+delayed\s+process\s+waiting\s+success\s+error\s+cancel\s+retry/);
    expect(table.stdout).toContain('no live workers');
  });

  it('prints its version, and refuses an unknown flag with exit 2 naming the closest one', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
    const typo = await cli(['-A', APP, 'inspect', '--jsn']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('QTASKS_ERR_CLI_USAGE');
    expect(typo.stderr).toMatch(/--jsn\b[^\n]*--json\b/);
    const other = await cli(['-A', APP, 'run', '--json']);
    expect(other.code).toBe(2);
    const short = await cli(['-A', APP, 'inspect', '-x']);
    expect(short.code).toBe(2);
    const command = await cli(['-A', APP, 'inspct']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('inspect');
  });

  it('loads a .ts app with its decorator metadata, and refuses a type-only import of an injected class', async () => {
    const injected = await cli(['-A', APP, 'add', 'text.upper', '["abc"]', '--wait', '--local']);
    expect(injected.code).toBe(0);
    expect(JSON.parse(injected.stdout)).toMatchObject({ status: 'success', result: 'ABC' });
    const typeOnly = await cli(['-A', 'test/ops/fixtures/type-only-app.ts', 'inspect']);
    expect(typeOnly.code).toBe(1);
    expect(typeOnly.stderr).toContain('QTASKS_ERR_TYPE_ONLY_IMPORT');
  });

  it('exits 1 with the error code for a missing module or export', async () => {
    const noModule = await cli(['-A', 'samples/nowhere/app.ts', 'inspect']);
    expect(noModule.code).toBe(1);
    expect(noModule.stderr).toContain('QTASKS_ERR_CLI_MODULE_NOT_FOUND');
    const noExport = await cli(['-A', `${APP}:nothing`, 'inspect']);
    expect(noExport.code).toBe(1);
    expect(noExport.stderr).toContain('QTASKS_ERR_CLI_EXPORT_NOT_FOUND');
  });

  it('adds tasks in bulk from a file with progress, and refuses a bad file', async () => {
    const file = join(tmp, 'tasks.json');
    const tasks = [
      ...Array.from({ length: 40 }, (_, i) => ({ name: 'add', args: [i, 1] })),
      { name: 'text.upper', args: ['bulk'], opts: { priority: 1 } },
    ];
    writeFileSync(file, JSON.stringify(tasks));
    const r = await cli(['-A', APP, 'add', '--file', file, '--wait', '--local', '--batch', '16']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { added: number; ids: string[]; succeeded: number; failed: unknown[] };
    expect(out).toMatchObject({ added: 41, succeeded: 41, failed: [] });
    expect(new Set(out.ids).size).toBe(41);
    expect(r.stderr).toMatch(/added 41\/41 \(100%\)/);
    expect(r.stderr).toMatch(/finished 41\/41 \(100%\)/);

    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ name: 'add', args: [1, 2] }, { args: [] }]));
    const refused = await cli(['-A', APP, 'add', '--file', bad, '--local']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('QTASKS_ERR_CLI_USAGE');
    const unknown = join(tmp, 'unknown.json');
    writeFileSync(unknown, JSON.stringify([{ name: 'no.such.task' }]));
    const notFound = await cli(['-A', APP, 'add', '--file', unknown]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('QTASKS_ERR_TASK_NOT_FOUND');
  });

  it('purges a status with progress, and never running tasks', async () => {
    const target = 'test/ops/fixtures/cli-app.ts:withFailures';
    const r = await cli(['-A', target, 'purge', 'error', '--json', '--batch', '2'], { OPS_FAILURES: '5' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ queue: 'cli-ops', status: 'error', removed: 5 });
    expect(r.stderr).toMatch(/removed error 5\/5 \(100%\)/);
    const none = await cli(['-A', target, 'purge', 'success', '--json']);
    expect(JSON.parse(none.stdout)).toMatchObject({ status: 'success', removed: 1 });
    const refused = await cli(['-A', target, 'purge', 'process']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('QTASKS_ERR_CLI_USAGE');
    const missing = await cli(['-A', target, 'purge']);
    expect(missing.code).toBe(1);
  }, 60_000);

  it('serves the web view until SIGTERM, then exits 0', async () => {
    const web = start(['-A', APP, 'web', '--port', '0', '--worker']);
    running.push(web.child);
    const [, url] = await waitForOutput(web.stderr, /web view of queue "basic" on (http:\/\/127\.0\.0\.1:\d+\/)/);
    const [, token] = await waitForOutput(web.stderr, /actions need the token (\S+)/);
    const queue = (await (await fetch(`${url}api/queue`)).json()) as { queue: string; workers: unknown[] };
    expect(queue).toMatchObject({ queue: 'basic' });
    expect(queue.workers).toHaveLength(1);
    expect((await fetch(`${url}api/queue/pause`, { method: 'POST' })).status).toBe(401);
    const paused = await fetch(`${url}api/queue/pause`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await paused.json()).toMatchObject({ paused: true });
    web.child.kill('SIGTERM');
    const r = await web.done;
    expect(r.code).toBe(0);
  });

  it('exits 1 with QTASKS_ERR_WEB_PORT_IN_USE when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const r = await cli(['-A', APP, 'web', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('QTASKS_ERR_WEB_PORT_IN_USE');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('run --plugin (repeatable) wires the plugin modules; one that cannot be loaded is QTASKS_ERR_PLUGIN_LOAD', async () => {
    const plugin = (label: string) => {
      const file = join(tmp, `${label}.js`);
      writeFileSync(
        file,
        `const { Plugin, Hook } = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
        class P { started() { process.stderr.write('plugin ${label} started\\n'); } }
        Hook('app:start')(P.prototype, 'started', Object.getOwnPropertyDescriptor(P.prototype, 'started'));
        Plugin()(P);
        exports.P = P;`,
      );
      return file;
    };
    const run = start(['-A', APP, 'run', '--plugin', plugin('one'), `--plugin=${plugin('two')}`]);
    running.push(run.child);
    await waitForOutput(run.stderr, /worker started on queue "basic"/);
    expect(run.stderr()).toContain('plugin one started');
    expect(run.stderr()).toContain('plugin two started');
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);

    const bad = await cli(['-A', APP, 'run', '--plugin', './no-such-plugin.js']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('QTASKS_ERR_PLUGIN_LOAD');
  });

  it('runs a worker until SIGTERM, then closes and exits 0', async () => {
    const run = start(['-A', APP, 'run']);
    running.push(run.child);
    await waitForOutput(run.stderr, /worker started on queue "basic"/);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
  });
});
