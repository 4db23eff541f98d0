/**
 * The jest globals the published suites use, typed from `@jest/globals` by a type-only import (no
 * runtime dependency: the values are the ones jest puts on the global object of a test file).
 */
import type * as JestGlobals from '@jest/globals';

type Globals = typeof JestGlobals;

/** The jest globals of the running test file; a clear error when the suites are used outside jest. */
function globals(): Globals {
  const g = globalThis as unknown as Partial<Globals>;
  if (typeof g.describe !== 'function' || typeof g.expect !== 'function') {
    throw new Error('qtasks/conformance runs under jest: call describeEngineConformance() from a jest test file');
  }
  return g as Globals;
}

const g = globals();

export const describe: Globals['describe'] = g.describe;
export const it: Globals['it'] = g.it;
export const expect: Globals['expect'] = g.expect;
export const beforeAll: Globals['beforeAll'] = g.beforeAll;
export const beforeEach: Globals['beforeEach'] = g.beforeEach;
export const afterAll: Globals['afterAll'] = g.afterAll;
export const afterEach: Globals['afterEach'] = g.afterEach;
