/**
 * The engine's Lua scripts, read once per process from `lua/<name>-<numKeys>.lua`. A line
 * `--- @include "name"` in a script is replaced by `lua/includes/<name>.lua`, so that a fragment
 * several scripts share (a local function) is written once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A script: its name, how many of its arguments are keys, and its source (includes expanded). */
export interface ScriptDef {
  name: string;
  keys: number;
  lua: string;
}

const INCLUDE = /^--- @include "([\w-]+)"[ \t]*$/gm;

let scriptCache: ScriptDef[] | undefined;

/** The source of `file` with its includes expanded (an include may not include another). */
function expandIncludes(source: string, file: string, dir: string): string {
  return source.replace(INCLUDE, (_line, name: string) => {
    let text: string;
    try {
      text = readFileSync(join(dir, 'includes', `${name}.lua`), 'utf8');
    } catch {
      throw new Error(`Lua script ${file} includes "${name}", but ${join(dir, 'includes', name + '.lua')} cannot be read`);
    }
    if (INCLUDE.test(text)) throw new Error(`Lua include ${name}.lua includes another one: includes do not nest`);
    INCLUDE.lastIndex = 0;
    return text.replace(/\n$/, '');
  });
}

/** Every Lua script of the engine, read once per process (`dir`: another folder, for tests). */
export function loadScripts(dir = join(__dirname, 'lua')): ScriptDef[] {
  const own = dir === join(__dirname, 'lua');
  if (own && scriptCache) return scriptCache;
  const scripts = readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .map((f) => {
      const m = /^(.+)-(\d+)\.lua$/.exec(f);
      if (!m) throw new Error(`Lua script ${f} must be named <command>-<numKeys>.lua`);
      return { name: m[1], keys: Number(m[2]), lua: expandIncludes(readFileSync(join(dir, f), 'utf8'), f, dir) };
    });
  const names = new Set<string>();
  for (const s of scripts) {
    if (names.has(s.name)) throw new Error(`Two Lua scripts named ${s.name} in ${dir}: remove the stale one`);
    names.add(s.name);
  }
  if (own) scriptCache = scripts;
  return scripts;
}
