/**
 * The basic sample's app, in memory (no Redis needed). Used by `qtasks -A samples/basic/app.ts run`.
 */
import 'reflect-metadata';
import { QTasks } from 'qtasks';
import { Add, Countdown, Text } from './tasks';

export const app = new QTasks({ name: 'basic', concurrency: 4, discover: false });
app.register(Add, Text, Countdown);
