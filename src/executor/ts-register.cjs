/*
 * Lets a thread or process of the executor pools load `.ts` modules with decorator metadata kept
 * (`emitDecoratorMetadata`: tsyringe and qtasks read parameter types). Each file is compiled alone
 * (like ts-node's transpile-only) and the output is cached on disk by content, so that a thread
 * started to replace a terminated one loads in milliseconds instead of compiling again.
 * Plain CommonJS: it runs (with --require) before anything can compile TypeScript.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');

if (!require.extensions['.ts']) {
  let ts;
  const typescript = () => (ts ??= require('typescript'));
  const version = (() => {
    try {
      return require('typescript/package.json').version;
    } catch {
      return 'none';
    }
  })();
  const options = {
    module: 'CommonJS',
    target: 'ES2022',
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    inlineSourceMap: true,
    inlineSources: true,
  };
  const dir = path.join(os.tmpdir(), 'qtasks-ts-cache', crypto.createHash('sha1').update(version + JSON.stringify(options)).digest('hex').slice(0, 12));
  let compilerOptions;

  const compile = (source, filename) => {
    const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
    const cached = path.join(dir, key + '.js');
    try {
      return fs.readFileSync(cached, 'utf8');
    } catch {
      // not compiled yet
    }
    const t = typescript();
    compilerOptions ??= t.convertCompilerOptionsFromJson(options, process.cwd()).options;
    const out = t.transpileModule(source, { fileName: filename, compilerOptions }).outputText;
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
