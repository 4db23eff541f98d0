/**
 * The Lua script loader: `--- @include "name"` lines are replaced by `lua/includes/<name>.lua`, a
 * missing or nested include fails loading with an error that names the files, and no script of the
 * engine keeps an include line.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScripts } from '../../src/engines/redis/lua-scripts';

describe('Redis Lua scripts: includes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qt-lua-'));
    mkdirSync(join(dir, 'includes'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces an include line by the fragment', () => {
    writeFileSync(join(dir, 'includes', 'two.lua'), 'local function two() return 2 end\n');
    writeFileSync(join(dir, 'sum-1.lua'), '-- header\n--- @include "two"\nreturn two() + 1\n');
    const [s] = loadScripts(dir);
    expect(s).toEqual({ name: 'sum', keys: 1, lua: '-- header\nlocal function two() return 2 end\nreturn two() + 1\n' });
  });

  it('fails on a missing include, naming it', () => {
    writeFileSync(join(dir, 'sum-1.lua'), '--- @include "nowhere"\nreturn 1\n');
    expect(() => loadScripts(dir)).toThrow(/sum-1\.lua includes "nowhere"/);
  });

  it('fails on an include that includes another', () => {
    writeFileSync(join(dir, 'includes', 'a.lua'), '--- @include "b"\n');
    writeFileSync(join(dir, 'includes', 'b.lua'), 'local b = 1\n');
    writeFileSync(join(dir, 'x-0.lua'), '--- @include "a"\nreturn 1\n');
    expect(() => loadScripts(dir)).toThrow(/do not nest/);
  });

  it('leaves no include line in the engine scripts', () => {
    const scripts = loadScripts(join(__dirname, '../../src/engines/redis/lua'));
    expect(scripts.length).toBeGreaterThan(10);
    for (const s of scripts) expect(s.lua).not.toMatch(/@include/);
  });
});
