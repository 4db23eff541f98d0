/**
 * Plugins from configuration: `config.plugins` and `QTASKS_PLUGINS` name modules whose exported
 * @Plugin classes are wired at start(); a module that cannot be loaded (or exports no plugin) is
 * QTASKS_ERR_PLUGIN_LOAD naming it; `discover: true` wires @Plugin classes without plugin(), each
 * class once however it arrives; `@Plugin({ discover: false })` waits to be asked.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { ErrorCodes, Hook, HookEvents, Plugin, PluginLoadError, QTasks, Task } from 'qtasks';
import { PrometheusPlugin } from 'qtasks/observability/prometheus';
import { pluginClassesOf, pluginSpecs } from '../../src/plugins/plugin-loader';
import { parseArgs } from '../../src/cli/args';
import { ConfigPlugin, configPluginSeen } from './fixtures/config-plugin';

const FIXTURE = join(__dirname, 'fixtures', 'config-plugin');
const seen: string[] = [];

@Plugin()
class DiscoveredPlugin {
  @Hook('task:success') success(e: HookEvents['task:success']): void {
    seen.push(`discovered:${e.record.name}`);
  }
}

@Plugin({ discover: false })
class ShyPlugin {
  @Hook('task:success') success(e: HookEvents['task:success']): void {
    seen.push(`shy:${e.record.name}`);
  }
}

class PcTasks {
  @Task({ name: 'pc.ok' })
  ok(v: number): number {
    return v;
  }
}

let seq = 0;
const name = () => `pc-${process.pid}-${++seq}`;

describe('plugins from configuration', () => {
  let app: QTasks | undefined;
  beforeEach(() => {
    seen.length = 0;
    configPluginSeen.length = 0;
  });
  afterEach(async () => {
    delete process.env.QTASKS_PLUGINS;
    await app?.close();
    app = undefined;
  });

  it('wires the @Plugin classes of the modules in config.plugins at start()', async () => {
    app = new QTasks({ name: name(), discover: false, config: { logLevel: 'silent', plugins: [FIXTURE] } });
    app.register(PcTasks);
    expect(configPluginSeen).toEqual([]);
    await app.start();
    await (await app.addTask('pc.ok', [1])).result({ timeout: 5_000 });
    expect(configPluginSeen).toEqual([`start:${app.name}`, 'success:pc.ok']);
  });

  it('reads QTASKS_PLUGINS (comma-separated) and resolves paths from the working directory', async () => {
    // jest runs in the repository root: a relative path is resolved from there
    process.env.QTASKS_PLUGINS = ` ./test/extensions/fixtures/config-plugin , ${FIXTURE} `;
    app = new QTasks({ name: name(), discover: false, config: { logLevel: 'silent' } });
    expect(app.config.plugins).toEqual(['./test/extensions/fixtures/config-plugin', FIXTURE]);
    app.loadPlugins(['./fixtures/config-plugin'], __dirname);
    app.register(PcTasks);
    await app.start(); // the same class again from config: wired once
    await (await app.addTask('pc.ok', [2])).result({ timeout: 5_000 });
    expect(configPluginSeen).toEqual([`start:${app.name}`, 'success:pc.ok']);
  });

  it('loads qtasks subpaths by package name', () => {
    expect(pluginClassesOf('qtasks/observability/prometheus')).toEqual([PrometheusPlugin]);
    expect(pluginClassesOf(FIXTURE)).toEqual([ConfigPlugin]);
    expect(pluginSpecs('a, b,,a', ['c', ' b '])).toEqual(['a', 'b', 'c']);
  });

  it('refuses a module that cannot be loaded or exports no plugin, naming it', async () => {
    app = new QTasks({ name: name(), discover: false, config: { logLevel: 'silent', plugins: ['qtasks-no-such-plugin-module'] } });
    const err = await app.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginLoadError);
    expect(err).toMatchObject({ code: ErrorCodes.PLUGIN_LOAD, module: 'qtasks-no-such-plugin-module', details: { module: 'qtasks-no-such-plugin-module' } });
    expect(() => pluginClassesOf('./fixtures/missing-plugin', __dirname)).toThrow(expect.objectContaining({ code: ErrorCodes.PLUGIN_LOAD, module: './fixtures/missing-plugin' }));
    expect(() => pluginClassesOf('./fixtures/no-plugin', __dirname)).toThrow(expect.objectContaining({ code: ErrorCodes.PLUGIN_LOAD, module: './fixtures/no-plugin' }));
    expect(() => new QTasks({ config: { plugins: [3 as unknown as string] } })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });

  it('discover: true wires @Plugin classes without plugin(), each once; discover: false ones wait to be asked', async () => {
    app = new QTasks({ name: name(), config: { logLevel: 'silent' } });
    app.register(PcTasks, DiscoveredPlugin).plugin(DiscoveredPlugin);
    await app.start();
    await (await app.addTask('pc.ok', [3])).result({ timeout: 5_000 });
    expect(seen).toEqual(['discovered:pc.ok']);
    await app.close();

    seen.length = 0;
    app = new QTasks({ name: name(), config: { logLevel: 'silent' } });
    app.register(PcTasks).plugin(ShyPlugin);
    await app.start();
    await (await app.addTask('pc.ok', [4])).result({ timeout: 5_000 });
    expect(seen.sort()).toEqual(['discovered:pc.ok', 'shy:pc.ok']);
    await app.close();

    seen.length = 0;
    app = new QTasks({ name: name(), discover: false, config: { logLevel: 'silent' } });
    app.register(PcTasks);
    await app.start();
    await (await app.addTask('pc.ok', [5])).result({ timeout: 5_000 });
    expect(seen).toEqual([]);
  });

  it('qtasks run takes --plugin more than once', () => {
    expect(parseArgs(['-A', 'app.ts', 'run', '--plugin', './a.js', '--plugin=qtasks/prometheus']).flags.plugin).toBe('./a.js,qtasks/prometheus');
  });
});
