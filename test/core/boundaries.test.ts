/**
 * The import boundaries the design relies on: the core reaches engines only through the registry
 * (so adding an engine touches one line outside its folder), and the web view reaches the app only
 * through its host interface (no import cycle between them).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(__dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers a file imports or requires. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|require\()\s*'([^']+)'/g)].map((m) => m[1]);
}

const rel = (f: string) => relative(SRC, f).split('\\').join('/');

describe('import boundaries', () => {
  it('the core imports no engine folder except through the registry', () => {
    // the public barrel re-exports the default engine, the test kit runs on it, the CLI's migrate
    // command loads the PostgreSQL engine on demand
    const outside = new Set(['index.ts', 'engine/registry.ts', 'testing/index.ts', 'cli/commands/migrate.ts']);
    const offenders = files(SRC)
      .filter((f) => !rel(f).startsWith('engines/') && !outside.has(rel(f)))
      .filter((f) => imports(f).some((s) => /(^|\/)engines\//.test(s)))
      .map(rel);
    expect(offenders).toEqual([]);
  });

  it('the web view never imports the app module', () => {
    const offenders = files(join(SRC, 'web'))
      .filter((f) => imports(f).some((s) => /app\/qtasks$/.test(s)))
      .map(rel);
    expect(offenders).toEqual([]);
  });
});
