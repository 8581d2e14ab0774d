/**
 * The CLI's errors. A UsageError is the caller's mistake (a bad argument or option): one line
 * naming the problem, exit code 2. Anything else that escapes a command is unexpected: exit 1.
 */
export class UsageError extends Error {
  readonly exitCode = 2;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT, as shells report a run stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;
