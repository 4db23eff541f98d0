/**
 * qtasks/observability/pino: PinoLogger writes structured JSON (task fields on task loggers, errors
 * serialized), TaskLogPlugin writes one line per attempt end.
 */
import 'reflect-metadata';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Logger, Task, TaskContext } from 'qtasks';
import { PinoLogger, TaskLogPlugin } from 'qtasks/observability/pino';
import { createTestApp, TestApp } from 'qtasks/testing';

class Tasks {
  @Task({ name: 'log.hello' })
  hello(ctx: TaskContext, who: string) {
    ctx.logger.info('hello', { who });
    return who;
  }

  @Task({ name: 'log.fail' })
  fail() {
    throw new Error('bad day');
  }
}

function sink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { stream, lines };
}

describe('PinoLogger', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it('is a Logger writing JSON lines with child fields and serialized errors', () => {
    const { stream, lines } = sink();
    const logger = new PinoLogger({ level: 'debug' }, stream);
    expect(logger).toBeInstanceOf(Logger);
    logger.child({ queue: 'q1' }).warn('careful', { error: Object.assign(new Error('boom'), { code: 'E1' }), n: 2 });
    logger.debug('fine detail');
    expect(lines[0]).toMatchObject({ level: 40, msg: 'careful', queue: 'q1', n: 2, error: { type: 'Error', message: 'boom', code: 'E1' } });
    expect(typeof (lines[0].error as { stack: unknown }).stack).toBe('string');
    expect(lines[1]).toMatchObject({ level: 20, msg: 'fine detail' });
  });

  it('respects the pino level and wraps an existing pino logger', () => {
    const { stream, lines } = sink();
    const logger = new PinoLogger(pino({ level: 'warn' }, stream));
    logger.info('hidden');
    logger.error('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('gives tasks a logger bound to the task, and TaskLogPlugin logs each attempt end', async () => {
    const { stream, lines } = sink();
    app = createTestApp({ name: `log-${process.pid}-${Date.now()}`, logger: new PinoLogger({ level: 'info' }, stream) });
    app.register(Tasks).plugin(TaskLogPlugin);
    const ok = await app.runTask('log.hello', ['ann']);
    const bad = await app.runTask('log.fail');
    const hello = lines.find((l) => l.msg === 'hello');
    expect(hello).toMatchObject({ who: 'ann', taskId: ok.id, task: 'log.hello', attempt: 1 });
    const ends = lines.filter((l) => l.task !== undefined && l.status !== undefined);
    expect(ends.map((l) => [l.taskId, l.status, l.level])).toEqual([
      [ok.id, 'success', 30],
      [bad.id, 'error', 50],
    ]);
    expect(ends[1]).toMatchObject({ error: { message: 'bad day' } });
    expect(typeof ends[0].durationMs).toBe('number');
  });
});
