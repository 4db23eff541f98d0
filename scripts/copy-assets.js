// Copies non-TypeScript assets (Lua scripts, web page) from src/ into dist/ after tsc.
const fs = require('fs');
const path = require('path');

const exts = new Set(['.lua', '.html', '.css', '.js.txt', '.cjs']);
function copy(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) { copy(from); continue; }
    if (!exts.has(path.extname(entry.name))) continue;
    const to = path.join('dist', path.relative('src', from));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
}
copy('src');
