/**
 * The built CLI refuses what cannot work, with a typed one-line error and a non-zero exit: `add` on
 * the in-memory engine without a worker here (the task would die with the process), and an app
 * module that is a directory or imports something missing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const APP = 'samples/basic/app.ts';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, QTASKS_LOG_LEVEL: 'warn', QTASKS_URL: '', QTASKS_REDIS_URL: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('qtasks CLI refusals (built)', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  });

  it('refuses add on the in-memory engine without a worker here, saying why', async () => {
    const r = await cli(['-A', APP, 'add', 'add', '[1, 2]']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('QTASKS_ERR_UNSUPPORTED');
    expect(r.stderr).toContain('--local');
    const unknown = await cli(['-A', APP, 'add', 'no.such.task']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('QTASKS_ERR_TASK_NOT_FOUND');
    const local = await cli(['-A', APP, 'add', 'add', '[1, 2]', '--local', '--wait']);
    expect(local.code).toBe(0);
  });

  it('a directory or a module with a missing import is a typed one-line error', async () => {
    for (const target of ['.', 'test/ops/fixtures/missing-import-app.ts']) {
      const r = await cli(['-A', target, 'inspect']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('QTASKS_ERR_CLI_MODULE_NOT_FOUND');
      expect(r.stderr).not.toContain('Require stack');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
