/**
 * `qtasks -A app add --file tasks.json`: enqueues every task of a JSON file
 * (`[{ "name": "...", "args": [...], "opts": {...} }, ...]`) in batches, with progress on stderr;
 * `--wait` also waits for every result.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { QTasks, BulkTask } from '../../app/qtasks';
import { ErrorCodes, QTasksError } from '../../errors';
import type { TaskHandle } from '../../task/task-handle';
import { numberFlag, ParsedArgs } from '../args';
import type { CliIO } from '../command';
import { Progress } from './progress';
import { refuseLostAdd } from './refuse-lost-add';

/** Reads and checks the task file. */
export function readTaskFile(file: string, cwd = process.cwd()): BulkTask[] {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new QTasksError(ErrorCodes.CLI_USAGE, `Cannot read the task file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new QTasksError(ErrorCodes.CLI_USAGE, `The task file ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(data)) throw new QTasksError(ErrorCodes.CLI_USAGE, `The task file ${path} must hold a JSON array of { name, args?, opts? }`);
  return data.map((entry: unknown, i) => {
    const e = entry as Partial<BulkTask> | null;
    const bad = (what: string) => new QTasksError(ErrorCodes.CLI_USAGE, `Task #${i} of ${path}: ${what}`);
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw bad('must be an object { name, args?, opts? }');
    if (typeof e.name !== 'string' || e.name === '') throw bad('"name" must be a task name');
    if (e.args !== undefined && !Array.isArray(e.args)) throw bad('"args" must be an array');
    if (e.opts !== undefined && (typeof e.opts !== 'object' || e.opts === null || Array.isArray(e.opts))) throw bad('"opts" must be an object');
    return { name: e.name, args: e.args, opts: e.opts };
  });
}

/** Runs `add --file`; resolves with the exit code. */
export async function addFromFile(app: QTasks, args: ParsedArgs, io: CliIO): Promise<number> {
  const file = args.flags.file;
  if (typeof file !== 'string') throw new QTasksError(ErrorCodes.CLI_USAGE, '--file needs a path: add --file tasks.json');
  const tasks = readTaskFile(file);
  const batch = numberFlag(args.flags, 'batch') ?? 500;
  if (!Number.isInteger(batch) || batch < 1) throw new QTasksError(ErrorCodes.CLI_USAGE, '--batch takes a positive integer');
  await refuseLostAdd(app, args, tasks.map((t) => t.name));
  if (args.flags.local) await app.start();
  const handles: TaskHandle[] = [];
  const adding = new Progress(io.err, 'added', tasks.length);
  for (let i = 0; i < tasks.length; i += batch) {
    handles.push(...(await app.addTasks(tasks.slice(i, i + batch))));
    adding.update(handles.length);
  }
  adding.end(handles.length);
  const ids = handles.map((h) => h.id);
  if (!args.flags.wait) {
    io.out(JSON.stringify({ added: ids.length, ids }));
    return 0;
  }
  const timeout = numberFlag(args.flags, 'timeout');
  const waiting = new Progress(io.err, 'finished', handles.length);
  let done = 0;
  const failed: { id: string; code?: string; message: string }[] = [];
  await Promise.all(
    handles.map(async (h) => {
      try {
        await h.result(timeout === undefined ? undefined : { timeout });
      } catch (err) {
        failed.push({ id: h.id, code: (err as QTasksError).code, message: (err as Error).message });
      }
      waiting.update(++done);
    }),
  );
  waiting.end(done);
  io.out(JSON.stringify({ added: ids.length, ids, succeeded: ids.length - failed.length, failed }));
  return failed.length === 0 ? 0 : 1;
}
