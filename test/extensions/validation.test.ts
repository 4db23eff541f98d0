/**
 * Validation: class-validator DTOs checked at addTask and before the run, plain JSON turned into DTO
 * instances, every failing field listed, the task never run nor retried.
 */
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Min, MinLength, ValidateNested } from 'class-validator';
import { ErrorCodes, Inject, QTasksError, Task, TaskContext, ValidationError } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';

class Address {
  @IsString() @MinLength(2) city!: string;
}

class SignUp {
  @IsEmail() email!: string;
  @IsInt() @Min(18) age!: number;
  @ValidateNested() @Type(() => Address) address!: Address;
  greet() {
    return `${this.email}/${this.age}/${this.address.city}`;
  }
}

class Count {
  @IsInt() @Min(0) n!: number;
}

let runs = 0;

class Users {
  @Task({ name: 'val.signup', validate: true, retry: 3 })
  signup(ctx: TaskContext, dto: SignUp) {
    runs++;
    return `${ctx.name}:${dto instanceof SignUp ? dto.greet() : 'plain'}`;
  }
}

@Task({ name: 'val.list', validate: [Count, undefined] })
class ListForm {
  run(c: Count, label: string) {
    runs++;
    return `${label}:${c instanceof Count ? c.n : 'plain'}`;
  }
}

@Task({ name: 'val.decorated-run', validate: true })
class DecoratedRun {
  run(@Inject(Number) _unused: number, c: Count) {
    return c instanceof Count ? c.n : -1;
  }
}

@Task({ name: 'val.no-dto', validate: true })
class NoDto {
  run(n: number) {
    return n;
  }
}

const good = { email: 'a@b.io', age: 30, address: { city: 'Lyon' } };

describe('validation', () => {
  let app: TestApp;
  beforeEach(() => {
    runs = 0;
    app = createTestApp({ name: `val-${process.pid}-${Date.now()}`, config: { logLevel: 'silent' } });
    app.register(Users, ListForm);
  });
  afterEach(async () => {
    await app.close();
  });

  it('runs with DTO instances built from the JSON arguments', async () => {
    await app.start();
    expect(await (await app.addTask('val.signup', [good])).result({ timeout: 2_000 })).toBe('val.signup:a@b.io/30/Lyon');
    expect(await (await app.addTask('val.list', [{ n: 4 }, 'x'])).result({ timeout: 2_000 })).toBe('x:4');
  });

  it('rejects addTask with QTASKS_ERR_VALIDATION listing each field and constraint', async () => {
    const bad = { email: 'nope', age: 12, address: { city: 'L' } };
    let caught: unknown;
    try {
      await app.addTask('val.signup', [bad]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as ValidationError;
    expect(err.code).toBe(ErrorCodes.VALIDATION);
    const byField = Object.fromEntries(err.issues.map((i) => [i.property, Object.keys(i.constraints).sort()]));
    expect(byField).toEqual({ email: ['isEmail'], age: ['min'], 'address.city': ['minLength'] });
    expect(err.issues.every((i) => i.argument === 0)).toBe(true);
    expect(await app.manager.counts()).toMatchObject({ new: 0 });
  });

  it('rejects an argument that is not an object', async () => {
    await expect(app.addTask('val.list', ['seven', 'x'])).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
  });

  it('checks again before the run: a record that bypassed the producer ends error, not run, not retried', async () => {
    // a record written by another producer (no validation there): enqueue straight through the broker
    await app.init();
    const ok = await app.addTask('val.signup', [good]);
    const rec = { ...(await app.getTask(ok.id))!, id: 'bypass', args: [{ email: 'x', age: 40, address: { city: 'Nice' } }], status: 'new' as const };
    await app.broker.enqueue([rec]);
    await app.start();
    await expect(app.handle('bypass').result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
    const final = await app.getTask('bypass');
    expect(final?.status).toBe('error');
    expect(final?.attempt).toBe(1);
    expect(final?.error?.code).toBe(ErrorCodes.VALIDATION);
    expect(runs).toBe(1); // only the valid task ran
  });

  it('validates a decorated run() by declared types', async () => {
    app.register(DecoratedRun);
    await app.start();
    expect(await (await app.addTask('val.decorated-run', [0, { n: 2 }])).result({ timeout: 2_000 })).toBe(2);
    await expect(app.addTask('val.decorated-run', [0, { n: -2 }])).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses validate: true without any class-typed parameter at register() (QTASKS_ERR_BAD_OPTION)', () => {
    let caught: unknown;
    try {
      app.register(NoDto);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QTasksError);
    expect((caught as QTasksError).code).toBe(ErrorCodes.BAD_OPTION);
  });
});
