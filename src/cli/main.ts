#!/usr/bin/env node
/**
 * The `qtasks` command: `qtasks -A <module>[:export] run | add <name> [json-args] | inspect | web`.
 */
import 'reflect-metadata';
import { QTasksError } from '../errors';
import { parseArgs } from './args';
import type { CliIO } from './command';
import { commands } from './commands';
import { loadApp } from './load-app';

const io: CliIO = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

function usage(): string {
  return [
    'usage: qtasks -A <module>[:export] <command> [options]',
    '',
    '  -A, --app   the app module (.js, or .ts compiled with decorator metadata); export defaults to "app"',
    '',
    ...commands.map((c) => `  ${c.usage.padEnd(48)} ${c.summary}`),
  ].join('\n');
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let app: Awaited<ReturnType<typeof loadApp>> | undefined;
  try {
    const args = parseArgs(argv);
    if (args.flags.help || !args.command) {
      (args.command ? io.out : io.err)(usage());
      return args.command || args.flags.help ? 0 : 2;
    }
    const command = commands.find((c) => c.name === args.command);
    if (!command) {
      io.err(`qtasks: unknown command "${args.command}"\n\n${usage()}`);
      return 2;
    }
    if (!args.app) {
      io.err(`qtasks: ${command.name} needs the app: qtasks -A path/to/app.ts ${command.usage}`);
      return 2;
    }
    command.beforeLoad?.(args);
    app = await loadApp(args.app);
    const code = await command.run(app, args, io);
    await app.close();
    return code;
  } catch (err) {
    const e = err as QTasksError;
    io.err(`qtasks: ${e.code ? `[${e.code}] ` : ''}${e.message}`);
    if (app) await app.close().catch(() => undefined);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
