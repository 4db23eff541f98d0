/**
 * Tasks declared on Nest providers: a method-form task and a class-form task, both injected with
 * `GreeterService` by Nest.
 */
import { Injectable } from '@nestjs/common';
import { Task, TaskContext } from 'qtasks';
import { GreeterService } from './greeter.service';

/** Method form: Nest builds the class once; each `@Task` method is a task. */
@Injectable()
export class GreetTasks {
  constructor(private readonly greeter: GreeterService) {}

  @Task({ name: 'greet', retry: 1 })
  greet(ctx: TaskContext, name: string): string {
    ctx.logger.debug('greeting', { name });
    return this.greeter.greet(name);
  }
}

/** Class form: `run` is the task, run on the instance Nest built. */
@Injectable()
@Task({ name: 'shout' })
export class ShoutTask {
  constructor(private readonly greeter: GreeterService) {}

  run(name: string): string {
    return this.greeter.greet(name).toUpperCase();
  }
}
