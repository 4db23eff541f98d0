/**
 * Every CLI command, in the order `--help` lists them.
 */
import type { Command } from '../command';
import { addCommand } from './add';
import { inspectCommand } from './inspect';
import { runCommand } from './run';

export const commands: Command[] = [runCommand, addCommand, inspectCommand];
