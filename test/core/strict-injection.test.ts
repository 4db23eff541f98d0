/**
 * Strict injection: a method parameter typed with a class is injected when the app knows the class
 * (container, @injectable(), @singleton()), an argument when the task validates it or it is marked
 * @Arg(), and otherwise start() rejects with QTASKS_ERR_UNRESOLVED_PARAM — a service is never
 * silently bound to an argument.
 */
import 'reflect-metadata';
import { IsEmail } from 'class-validator';
import { injectable, singleton } from 'tsyringe';
import { Arg, ErrorCodes, QTasks, QTasksError, Task, TaskContext } from 'qtasks';
import { createTestApp } from 'qtasks/testing';

class Mailer {
  send(to: string): string {
    return `sent to ${to}`;
  }
}

@injectable()
class Clock {
  now(): string {
    return 'tick';
  }
}

@singleton()
class Counter {
  n = 0;
}

class Message {
  to!: string;
}

class EmailDto {
  @IsEmail() to!: string;
}

class Unmarked {
  @Task({ name: 'si.unmarked' })
  send(ctx: TaskContext, mailer: Mailer, to: string): unknown {
    return { id: ctx.id, mailer, to };
  }
}

class Marked {
  @Task({ name: 'si.marked' })
  send(@Arg() message: Message, date: Date): unknown {
    return { to: message.to, date, isMessage: message instanceof Message };
  }
}

class Injected {
  @Task({ name: 'si.injected' })
  tick(clock: Clock, counter: Counter, label: string): string {
    counter.n++;
    return `${label}:${clock.now()}:${counter instanceof Counter}`;
  }

  @Task({ name: 'si.registered' })
  mail(mailer: Mailer, to: string): string {
    return mailer.send(to);
  }
}

class Validated {
  @Task({ name: 'si.validated', validate: true })
  send(dto: EmailDto): string {
    return dto.to;
  }
}

describe('strict injection', () => {
  const apps: QTasks[] = [];
  const make = (...classes: (new (...a: never[]) => unknown)[]): QTasks => {
    const app = new QTasks({ name: `si-${apps.length}-${Date.now()}`, discover: false, config: { logLevel: 'silent' } });
    app.register(...(classes as never[]));
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('start() rejects a class-typed parameter the app cannot inject, naming the task, the parameter and the fixes', async () => {
    const app = make(Unmarked);
    const err = await app.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QTasksError);
    expect(err).toMatchObject({ code: ErrorCodes.UNRESOLVED_PARAM, details: { task: 'si.unmarked', parameter: 'mailer', type: 'Mailer' } });
    expect((err as Error).message).toMatch(/@Arg\(\)/);
    expect((err as Error).message).toMatch(/@injectable\(\)/);
  });

  it('a producer that never starts still enqueues to such a task', async () => {
    const app = make(Unmarked);
    const h = await app.addTask('si.unmarked', ['bob@x']);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'new', args: ['bob@x'] });
  });

  it('the test kit refuses to run it', async () => {
    const app = createTestApp({ config: { logLevel: 'silent' } }).register(Unmarked);
    apps.push(app);
    await expect(app.runTask('si.unmarked', ['bob@x'])).rejects.toMatchObject({ code: ErrorCodes.UNRESOLVED_PARAM });
  });

  it('@Arg() makes a class-typed parameter an argument; built-in types are arguments', async () => {
    const app = make(Marked);
    await app.start();
    const h = await app.addTask('si.marked', [{ to: 'bob@x' }, new Date(0)]);
    expect(await h.result({ timeout: 5_000 })).toEqual({ to: 'bob@x', date: '1970-01-01T00:00:00.000Z', isMessage: false });
  });

  it('injects classes registered in the container (also after register()) or decorated @injectable() / @singleton()', async () => {
    const app = make(Injected);
    app.container.register(Mailer, { useValue: new Mailer() });
    await app.start();
    expect(await (await app.addTask('si.injected', ['a'])).result({ timeout: 5_000 })).toBe('a:tick:true');
    expect(await (await app.addTask('si.registered', ['bob@x'])).result({ timeout: 5_000 })).toBe('sent to bob@x');
  });

  it('a DTO the task validates is an argument', async () => {
    const app = make(Validated);
    await app.start();
    expect(await (await app.addTask('si.validated', [{ to: 'bob@example.com' }])).result({ timeout: 5_000 })).toBe('bob@example.com');
    await expect(app.addTask('si.validated', [{ to: 'nope' }])).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
  });

  it('@Arg() on a constructor parameter is a decorator error', () => {
    expect(() => {
      class Bad {
        constructor(@Arg() readonly m: Message) {}
      }
      return Bad;
    }).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_DECORATOR }));
  });
});
