// The `imgflow` executable (bin/imgflow.js loads it). Other code imports the library, src/index.ts.
import { processIo } from './io.js';
import { main } from './program.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  // The first Ctrl-C stops cleanly; a second one means "now".
  if (signals > 1) process.exit(130);
  controller.abort(signal);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
main(process.argv.slice(2), processIo(controller.signal)).then(
  (code) => {
    process.exitCode = code;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  },
  (error: unknown) => {
    process.stderr.write(`imgflow: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
