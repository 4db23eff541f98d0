/**
 * Validation sample: a task whose parameter is a DTO class; arguments are plain JSON, turned into
 * a `SignUp` instance and checked by class-validator at addTask and again before the run.
 */
import 'reflect-metadata';
import { IsEmail, IsInt, Min } from 'class-validator';
import { QTasks, Task, TaskContext, ValidationError } from 'qtasks';

export class SignUp {
  @IsEmail() email!: string;
  @IsInt() @Min(18) age!: number;

  describe() {
    return `${this.email} (${this.age})`;
  }
}

class Accounts {
  @Task({ name: 'account.create', validate: true })
  create(ctx: TaskContext, form: SignUp) {
    ctx.logger.debug('creating', { email: form.email });
    return `created ${form.describe()}`;
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  const app = new QTasks({ name: 'sample-validation', discover: false, config: { logLevel: 'warn' } });
  app.register(Accounts);
  await app.start();
  const created = await (await app.addTask('account.create', [{ email: 'ada@example.com', age: 36 }])).result({ timeout: 2_000 });
  log(String(created));
  let issues: unknown[] = [];
  try {
    await app.addTask('account.create', [{ email: 'not-an-email', age: 12 }]);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues = err.issues;
    log(`refused (${err.code}): ${err.issues.map((i) => `${i.property}: ${Object.keys(i.constraints).join(', ')}`).join('; ')}`);
  }
  await app.close();
  return { created, issues };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
