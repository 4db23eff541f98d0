/**
 * `qtasks -A app run`: starts a worker and keeps it running until SIGTERM or SIGINT, then closes
 * the app gracefully and exits 0.
 */
import type { Command } from '../command';
import { numberFlag } from '../args';
import { registerTypeScript } from '../ts-loader';

export const runCommand: Command = {
  name: 'run',
  usage: 'run [--concurrency N] [--plugin <module>]... [--exit-when-idle]',
  flags: ['concurrency', 'plugin', 'exit-when-idle'],
  summary: 'start a worker in this process (SIGTERM/SIGINT: finish running tasks, exit 0)',
  beforeLoad(args) {
    // the config is read when the app is built, so the flag goes in through the environment
    const concurrency = numberFlag(args.flags, 'concurrency');
    if (concurrency !== undefined) process.env.QTASKS_CONCURRENCY = String(concurrency);
  },
  async run(app, args, io) {
    // --plugin <module> (repeatable): wired with those of config.plugins / QTASKS_PLUGINS
    const plugins = args.flags.plugin;
    if (typeof plugins === 'string') {
      if (plugins.split(',').some((p) => /\.(c|m)?ts$/.test(p.trim()))) registerTypeScript();
      app.loadPlugins(plugins.split(','));
    }
    // signals are caught from before the start (plugins and the first claims run during it): one
    // that arrives meanwhile closes the app as soon as it has started, instead of killing it half-way
    let onSignal: (signal: string) => void = (signal) => (early ??= signal);
    let early: string | undefined;
    // kept until the process exits: a second signal during the graceful close is ignored
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    await app.start();
    io.err(`qtasks: worker started on queue "${app.name}" (concurrency ${app.config.concurrency}, tasks: ${app.taskNames().join(', ')})`);
    const keepAlive = setInterval(() => undefined, 60_000);
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        io.err(`qtasks: ${signal} received, closing (running tasks finish first)`);
        clearInterval(keepAlive);
        app.close().then(
          () => resolve(0),
          (err) => {
            io.err(`qtasks: close failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
      };
      // an operator's manager.stopWorker closes the app from elsewhere: exit as after SIGTERM
      app.once('worker:stop', () => stop('stop command'));
      onSignal = stop;
      if (early !== undefined) stop(early);
      if (args.flags['exit-when-idle']) {
        const poll = setInterval(async () => {
          const c = await app.manager.counts();
          if (c.new + c.process + c.retry + c.delayed === 0) {
            clearInterval(poll);
            stop('idle');
          }
        }, 100);
      }
    });
  },
};
