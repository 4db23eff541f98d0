// Copies non-TypeScript assets (Lua scripts, web page) from src/ into dist/ after tsc, and removes
// assets left in dist/ by an earlier build whose source is gone (a renamed Lua script would
// otherwise be loaded twice).
const fs = require('fs');
const path = require('path');

const exts = new Set(['.lua', '.html', '.css', '.js.txt', '.cjs']);
const isAsset = (name) => exts.has(path.extname(name));
function copy(dir) {
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const target = path.join('dist', path.relative('src', dir));
  if (fs.existsSync(target)) {
    const present = new Set(entries.map((e) => e.name));
    for (const stale of fs.readdirSync(target, { withFileTypes: true })) {
      if (stale.isFile() && isAsset(stale.name) && !present.has(stale.name)) fs.rmSync(path.join(target, stale.name));
    }
  }
  for (const entry of entries) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) { copy(from); continue; }
    if (!isAsset(entry.name)) continue;
    const to = path.join(target, entry.name);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
}
copy('src');
