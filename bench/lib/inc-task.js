/**
 * The benchmark task `@Task({ name: 'inc' }) class Inc { run(x) { return x + 1; } }`, decorated by
 * hand since this is plain JavaScript, from the built package.
 */
'use strict';

let Inc;

/** The decorated task class (built once per process). */
function incTask() {
  if (Inc) return Inc;
  const { Task } = require('../..');
  Inc = class Inc {
    run(x) {
      return x + 1;
    }
  };
  // What TypeScript's __decorate does: a class decorator may return a replacement class.
  Inc = Task({ name: 'inc' })(Inc) || Inc;
  return Inc;
}

module.exports = { incTask };
