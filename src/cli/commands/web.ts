/**
 * `qtasks -A app web`: serves the web view until SIGTERM or SIGINT (then closes and exits 0).
 * `--worker` also runs a worker in this process (needed with the in-memory engine).
 */
import { isLoopback } from '../../web/auth';
import { numberFlag } from '../args';
import type { Command } from '../command';

export const webCommand: Command = {
  name: 'web',
  usage: 'web [--port N] [--host 127.0.0.1] [--token T] [--worker]',
  flags: ['port', 'host', 'token', 'worker'],
  summary: 'serve the web view (actions need the token, printed when generated)',
  async run(app, args, io) {
    if (args.flags.worker) await app.start();
    const addr = await app.web.listen({
      port: numberFlag(args.flags, 'port'),
      host: typeof args.flags.host === 'string' ? args.flags.host : undefined,
      token: typeof args.flags.token === 'string' ? args.flags.token : undefined,
    });
    io.err(`qtasks: web view of queue "${app.name}" on ${addr.url}${args.flags.worker ? ' (with a worker)' : ''}`);
    if (!isLoopback(addr.host)) io.err(`qtasks: warning: ${addr.host} is reachable from other machines; anyone who reaches it can read the queue`);
    if (addr.generatedToken) io.err(`qtasks: actions need the token ${addr.token} (open ${addr.url}#token=${addr.token})`);
    const keepAlive = setInterval(() => undefined, 60_000);
    return new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        clearInterval(keepAlive);
        io.err(`qtasks: ${signal} received, closing`);
        app.close().then(
          () => resolve(0),
          (err) => {
            io.err(`qtasks: close failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onInt);
    });
  },
};
