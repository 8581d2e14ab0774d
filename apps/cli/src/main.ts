// The `imgflow` executable (bin/imgflow.js loads it). Other code imports the library, src/index.ts.
import { EXIT_INTERRUPTED } from './errors.js';
import { processIo } from './io.js';
import { main } from './program.js';

/** Once the command has returned, the process may linger this long for handles to close, no more. */
const EXIT_LINGER_MS = 2_000;

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  // The first Ctrl-C (or SIGTERM) stops cleanly; a second one means "now".
  if (signals > 1) {
    process.stderr.write(`imgflow: ${signal} again: exiting now\n`);
    process.exit(EXIT_INTERRUPTED);
  }
  controller.abort(signal);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/**
 * The command is done: a handler still working in the background (a promise cannot be killed, e.g.
 * an encode of an execution that was stopped) must not keep the process alive. The signal
 * handlers stay until then, so a second Ctrl-C still exits at once.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_LINGER_MS).unref();
}

main(process.argv.slice(2), processIo(controller.signal)).then(exitSoon, (error: unknown) => {
  process.stderr.write(`imgflow: ${error instanceof Error ? error.message : String(error)}\n`);
  exitSoon(1);
});
