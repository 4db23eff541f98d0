#!/usr/bin/env node
/**
 * The `qtasks` command: `qtasks -A <module>[:export] run | add <name> [json-args] | inspect | purge | web`,
 * and `qtasks migrate --url postgres://…` (no app).
 * Exit codes: 0 done, 1 the command failed, 2 the command line is wrong (usage printed).
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, QTasksError } from '../errors';
import { parseArgs, ParsedArgs } from './args';
import type { Command, CliIO } from './command';
import { commands } from './commands';
import { nearName } from '../config/closest-name';
import { checkFlags } from './flags';
import { loadApp } from './load-app';

const io: CliIO = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

function usage(): string {
  return [
    'usage: qtasks -A <module>[:export] <command> [options]',
    '       qtasks --version | --help',
    '',
    '  -A, --app   the app module (.js, or .ts compiled with decorator metadata); export defaults to "app"',
    '  --url       the engine, for an app that does not name one (sets QTASKS_URL): memory:, redis://…, postgres://…',
    '',
    ...commands.map((c) => `  ${c.usage.padEnd(48)} ${c.summary}`),
  ].join('\n');
}

/** The version of this package (from its package.json, one level above dist/ or src/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Reads and checks the command line; throws `QTASKS_ERR_CLI_USAGE` when it is wrong. */
function commandLine(argv: string[]): { args: ParsedArgs; command?: Command } {
  const args = parseArgs(argv);
  if (!args.command) {
    checkFlags(args, [], 'qtasks');
    return { args };
  }
  const command = commands.find((c) => c.name === args.command);
  if (!command) {
    const near = nearName(args.command, commands.map((c) => c.name));
    throw new QTasksError(ErrorCodes.CLI_USAGE, `unknown command "${args.command}"${near ? ` (did you mean ${near}?)` : ''}`);
  }
  checkFlags(args, command.flags, command.name);
  return { args, command };
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof commandLine>;
  try {
    parsed = commandLine(argv);
  } catch (err) {
    const e = err as QTasksError;
    io.err(`qtasks: ${e.code ? `[${e.code}] ` : ''}${e.message}\n\n${usage()}`);
    return 2;
  }
  const { args, command } = parsed;
  if (args.flags.version) {
    io.out(version());
    return 0;
  }
  if (args.flags.help) {
    io.out(usage());
    return 0;
  }
  if (!command) {
    io.err(usage());
    return 2;
  }
  if (command.standalone) {
    try {
      return await command.standalone(args, io);
    } catch (err) {
      const e = err as QTasksError;
      io.err(`qtasks: ${e.code ? `[${e.code}] ` : ''}${e.message}`);
      return e.code === ErrorCodes.CLI_USAGE ? 2 : 1;
    }
  }
  if (!args.app) {
    io.err(`qtasks: [${ErrorCodes.CLI_USAGE}] ${command.name} needs the app: qtasks -A path/to/app.ts ${command.usage}`);
    return 2;
  }
  let app: Awaited<ReturnType<typeof loadApp>> | undefined;
  try {
    if (typeof args.flags.url === 'string') process.env.QTASKS_URL = args.flags.url;
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
