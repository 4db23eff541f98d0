/*
 * Lets a thread or process of the executor pools load `.ts` modules with decorator metadata kept
 * (`emitDecoratorMetadata`: tsyringe and qtasks read parameter types). Each file is compiled alone
 * (with @swc/core or TypeScript, whichever is there) and the output is cached on disk by content,
 * so that a thread started to replace a terminated one loads in milliseconds, not seconds.
 * Plain CommonJS: it runs (with --require) before anything can compile TypeScript.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');

if (!require.extensions['.ts']) {
  let made;
  const compiler = () => (made ??= makeCompiler());
  const swc = () => {
    const core = require('@swc/core');
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
    return (source, filename) => core.transformSync(source, { ...options, filename }).code;
  };
  const typescript = () => {
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
    return (source, filename) => ts.transpileModule(source, { fileName: filename, compilerOptions }).outputText;
  };
  // a native addon in a worker thread that gets terminated (timeouts, cancels) can take the process
  // down with it: threads prefer TypeScript (plain JS), processes the faster swc
  const order = require('node:worker_threads').isMainThread ? [swc, typescript] : [typescript, swc];
  const makeCompiler = () => {
    try {
      return { compile: order[0]() };
    } catch {
      return { compile: order[1]() };
    }
  };
  // v1: the compile options above; change it with them
  const dir = path.join(os.tmpdir(), 'qtasks-ts-cache', 'v1');

  const compile = (source, filename) => {
    const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
    // the same source compiles the same way: the compiler is loaded only on a miss
    const cached = path.join(dir, key + '.js');
    try {
      return fs.readFileSync(cached, 'utf8');
    } catch {
      // not compiled yet
    }
    const out = compiler().compile(source, filename);
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
