/**
 * Runs a benchmark script's `main()`: exits 0 shortly after it resolves (open sockets of the
 * engines under test may keep the loop alive), prints the error and exits 1 when it rejects.
 */
'use strict';

function runMain(main) {
  main().then(
    () => setTimeout(() => process.exit(0), 100).unref(),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

module.exports = { runMain };
