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

/**
 * A plugin that calls `onSuccess` for every task that succeeds in this app's own worker: the
 * counterpart of BullMQ's `Worker` 'completed' and Bee-Queue's 'succeeded', which are local too.
 * (`app.on('task:success')` hears the ends of every process of the queue: two worker processes
 * would each count both's tasks, and each would receive every end over Redis.)
 */
function successCounter(onSuccess) {
  const { Hook, Plugin } = require('../..');
  class SuccessCounter {
    success() {
      onSuccess();
    }
  }
  Hook('task:success')(SuccessCounter.prototype, 'success', Object.getOwnPropertyDescriptor(SuccessCounter.prototype, 'success'));
  Plugin({ discover: false })(SuccessCounter);
  return new SuccessCounter();
}

module.exports = { incTask, successCounter };
