/**
 * `Router`: a group of task classes registered together, included by `app.includeRouter(router)`.
 */
import type { Constructor } from '../metadata';

/**
 * Groups classes so a module can export its tasks in one piece.
 * @example
 * ```ts
 * export const mail = new Router().register(Mailer, Digest);
 * app.includeRouter(mail);
 * ```
 */
export class Router {
  private readonly list: Constructor[] = [];
  private readonly routers: Router[] = [];

  /** Adds classes (tasks, state, depends, plugins). */
  register(...classes: Constructor[]): this {
    this.list.push(...classes);
    return this;
  }

  /** Nests another router. */
  includeRouter(router: Router): this {
    this.routers.push(router);
    return this;
  }

  /** Every class of this router and the routers it includes. */
  get classes(): Constructor[] {
    return [...this.list, ...this.routers.flatMap((r) => r.classes)];
  }
}
