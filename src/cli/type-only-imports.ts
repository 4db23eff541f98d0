/**
 * Finds qtasks classes that a module imports with `import type` (what lint autofix writes) and
 * then names in a decorated signature: TypeScript records `Object` for them in the decorator
 * metadata, so the parameter would silently become a task argument instead of being injected.
 */

/** The qtasks classes injected by their type. */
export const INJECTABLE_CLASSES: readonly string[] = ['TaskContext', 'Logger', 'Broker', 'Storage', 'Config'];

/** Names imported type-only from `qtasks` (`import type { A }` and `import { type A }`), local names. */
export function typeOnlyQtasksImports(source: string): string[] {
  const names: string[] = [];
  const re = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]qtasks['"]/g;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    const whole = m[1] !== undefined;
    for (const part of m[2].split(',')) {
      const spec = /^\s*(type\s+)?([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$/.exec(part);
      if (!spec) continue;
      const imported = spec[2];
      if ((whole || spec[1] !== undefined) && INJECTABLE_CLASSES.includes(imported)) names.push(spec[3] ?? imported);
    }
  }
  return names;
}

/**
 * The type-only imported qtasks classes that the compiled code names in decorator metadata (as a
 * bare identifier, which does not exist at run time and so reads as Object).
 */
export function typeOnlyInjections(source: string, compiled: string): string[] {
  const candidates = typeOnlyQtasksImports(source);
  return candidates.filter((name) => compiled.includes(`typeof ${name} === "undefined" ? Object : ${name}`));
}
