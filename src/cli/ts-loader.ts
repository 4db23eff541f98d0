/**
 * Lets `require` load `.ts` files for the CLI, compiled by swc with legacy decorators and their
 * `design:paramtypes` metadata (what injection by type needs). It never uses the project's own
 * TypeScript, so it works whatever version the project has (7.x has no JavaScript compiler API).
 */
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { ErrorCodes, QTasksError } from '../errors';
import { typeOnlyInjections } from './type-only-imports';

type Swc = typeof import('@swc/core');
type Loader = (module: NodeJS.Module & { _compile(code: string, file: string): void }, file: string) => void;

const EXTENSIONS = ['.ts', '.cts', '.tsx'];
let registered = false;

/** Compiles one TypeScript source to CommonJS with decorator metadata (inline source map). */
export function compileTypeScript(swc: Swc, source: string, file: string): string {
  try {
    return swc.transformSync(source, {
      filename: file,
      sourceMaps: 'inline',
      swcrc: false,
      configFile: false,
      module: { type: 'commonjs' },
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true, tsx: file.endsWith('.tsx') },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        keepClassNames: true,
      },
    }).code;
  } catch (err) {
    throw new QTasksError(ErrorCodes.CLI_COMPILE, `Cannot compile ${file}: ${String((err as Error)?.message ?? err).trim()}`);
  }
}

/**
 * Makes `require` understand `.ts` files outside node_modules. Idempotent. A decorated signature
 * that names a qtasks class imported with `import type` is refused (`QTASKS_ERR_TYPE_ONLY_IMPORT`).
 */
export function registerTypeScript(): void {
  if (registered) return;
  registered = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const swc = require('@swc/core') as Swc;
  process.setSourceMapsEnabled?.(true);
  const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
  const fallback = extensions['.js'];
  const load: Loader = (module, file) => {
    if (file.includes('/node_modules/') || file.includes('\\node_modules\\')) return fallback(module, file);
    const source = readFileSync(file, 'utf8');
    const code = compileTypeScript(swc, source, file);
    const lost = typeOnlyInjections(source, code);
    if (lost.length > 0) {
      throw new QTasksError(
        ErrorCodes.TYPE_ONLY_IMPORT,
        `${file}: ${lost.join(', ')} ${lost.length > 1 ? 'are' : 'is'} imported with \`import type\` but used in a decorated signature, ` +
          `so its decorator metadata says Object and nothing is injected; import ${lost.length > 1 ? 'them' : 'it'} as a value: import { ${lost.join(', ')} } from 'qtasks'`,
      );
    }
    module._compile(code, file);
  };
  for (const ext of EXTENSIONS) extensions[ext] = load;
}
