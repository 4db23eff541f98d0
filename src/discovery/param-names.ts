/**
 * Parameter names of a function, read from its source, for error messages that name a parameter
 * the way its author wrote it (`mailer`, not `#1`). Best effort: a name that cannot be read is
 * undefined and messages fall back to the position.
 */

/** The names of `fn`'s parameters in order (undefined for a destructured or unreadable one). */
export function paramNames(fn: (...args: never[]) => unknown): (string | undefined)[] {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return [];
  }
  const open = src.indexOf('(');
  if (open < 0) return [];
  const out: (string | undefined)[] = [];
  let depth = 0;
  let current = '';
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) {
        out.push(nameOf(current));
        break;
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      out.push(nameOf(current));
      current = '';
      continue;
    }
    current += c;
  }
  return out.length === 1 && out[0] === undefined && current.trim() === '' ? [] : out;
}

function nameOf(part: string): string | undefined {
  const m = /^\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)\s*(?:=|$)/.exec(part.replace(/\/\*.*?\*\//g, ''));
  return m ? m[1] : undefined;
}
