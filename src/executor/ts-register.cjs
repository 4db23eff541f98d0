/*
 * Lets a thread or process of the executor pools load `.ts` modules with decorator metadata kept
 * (`emitDecoratorMetadata`: tsyringe and qtasks read parameter types). Each file is compiled alone
 * (with @swc/core, or TypeScript when swc is missing) and the output is cached on disk by content, so that a thread
 * started to replace a terminated one loads in milliseconds instead of compiling again.
 * Plain CommonJS: it runs (with --require) before anything can compile TypeScript.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');

if (!require.extensions['.ts']) {
  // @swc/core (a dependency, fast) or else the project's TypeScript: both keep decorator metadata
  const compiler = (() => {
    try {
      const swc = require('@swc/core');
      const options = {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      };
      return {
        id: `swc-${swc.version}`,
        compile: (source, filename) => swc.transformSync(source, { ...options, filename }).code,
      };
    } catch {
      const ts = require('typescript');
      const compilerOptions = ts.convertCompilerOptionsFromJson(
        {
          module: 'CommonJS',
          target: 'ES2022',
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          esModuleInterop: true,
          inlineSourceMap: true,
          inlineSources: true,
        },
        process.cwd(),
      ).options;
      return {
        id: `ts-${ts.version}`,
        compile: (source, filename) => ts.transpileModule(source, { fileName: filename, compilerOptions }).outputText,
      };
    }
  })();
  const dir = path.join(os.tmpdir(), 'qtasks-ts-cache', compiler.id);

  const compile = (source, filename) => {
    const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
    const cached = path.join(dir, key + '.js');
    try {
      return fs.readFileSync(cached, 'utf8');
    } catch {
      // not compiled yet
    }
    const out = compiler.compile(source, filename);
    try {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      fs.writeFileSync(tmp, out);
      fs.renameSync(tmp, cached);
    } catch {
      // no cache (read-only tmp): compiled again next time
    }
    return out;
  };

  const load = (module, filename) => {
    module._compile(compile(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
  require.extensions['.ts'] = load;
  require.extensions['.cts'] = load;
  // stack traces of compiled files point at the .ts lines
  process.setSourceMapsEnabled?.(true);
}
