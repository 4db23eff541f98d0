/**
 * `qtasks/pino`: structured logging with pino. Optional: install `pino` to use it.
 */
import 'reflect-metadata';
export { PinoLogger } from './pino-logger';
export { TaskLogPlugin } from './task-log-plugin';
