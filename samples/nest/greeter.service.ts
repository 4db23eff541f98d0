/**
 * A plain Nest provider that the tasks receive through Nest's constructor injection.
 */
import { Injectable } from '@nestjs/common';

@Injectable()
export class GreeterService {
  private greeted = 0;

  greet(name: string): string {
    this.greeted++;
    return `Hello, ${name}!`;
  }

  /** How many greetings this (singleton) provider made. */
  count(): number {
    return this.greeted;
  }
}
