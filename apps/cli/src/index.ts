/**
 * @imgflow/cli as a library: every command is a function taking its options and an Io, so other
 * apps (reliability) and tests run them in-process. The executable is src/main.ts.
 */
export { renderAsl, validateAsl } from './commands/asl.js';
export {
  type BackfillItemResult,
  type BackfillOptions,
  type BackfillOutcome,
  type BackfillStatus,
  backfill,
} from './commands/backfill.js';
export { type ConsoleHandle, type ConsoleOptions, runConsole, startConsole } from './commands/console.js';
export { type ConsoleData, LocalConsoleData, RemoteConsoleData } from './console/data.js';
export { type ExecutionHistory, ExecutionRecorder, readHistories } from './console/history.js';
export { type ConsoleServer, DEFAULT_CONSOLE_PORT, startConsoleServer } from './console/server.js';
export { type DevHandle, type DevOptions, runDev, startDev } from './commands/dev.js';
export { DEFAULT_CONCURRENCY, type ImageResult, type RunOptions, type RunOutcome, runImages } from './commands/run.js';
export { STATUSES, type StatusOptions, showStatus } from './commands/status.js';
export { type SamplesOptions, makeSamples } from './commands/samples.js';
export { type SubmitOptions, submitImage } from './commands/submit.js';
export { EXIT_USAGE, UsageError } from './errors.js';
export { expandInputs, type InputFile } from './files.js';
export { type Io, processIo } from './io.js';
export { buildProgram, main } from './program.js';
