/**
 * Every CLI command, in the order `--help` lists them.
 */
import type { Command } from '../command';
import { addCommand } from './add';
import { inspectCommand } from './inspect';
import { migrateCommand } from './migrate';
import { purgeCommand } from './purge';
import { runCommand } from './run';
import { webCommand } from './web';
import { workersCommand } from './workers';

export const commands: Command[] = [runCommand, addCommand, inspectCommand, purgeCommand, workersCommand, webCommand, migrateCommand];
