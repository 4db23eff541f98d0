/**
 * The type tests: test/types/cases is compiled by tsc; an expected error that does not happen
 * (an unused `@ts-expect-error`) or an unexpected one fails the compile, and this test.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('typed enqueue: the type tests compile with every expected error present', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const out = spawnSync(process.execPath, [tsc, '-p', join(__dirname, 'cases', 'tsconfig.json'), '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(out.stdout + out.stderr).toBe('');
  expect(out.status).toBe(0);
}, 120_000);
