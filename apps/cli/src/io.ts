import { UsageError } from './errors.js';

/** Where a command writes. Tests pass in-memory streams; main.ts passes the process's. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM: a command stops starting work, finishes what runs and cleans up. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export function processIo(signal?: AbortSignal): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, ...(signal ? { signal } : {}) };
}

export function println(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}

/**
 * Runs a command body and turns its errors into an exit code: a UsageError prints
 * `imgflow <command>: <message>` and exits 2; anything else prints the same shape and exits 1.
 */
export async function withExitCode(command: string, io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    println(io.stderr, `imgflow ${command}: ${message}`);
    if (error instanceof UsageError) return error.exitCode;
    if (io.env?.IMGFLOW_DEBUG && error instanceof Error && error.stack) println(io.stderr, error.stack);
    return 1;
  }
}

/** Parses an integer option, or explains in one line what was expected. */
export function integerOption(name: string, value: string | number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const parsed = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(String(value))}`);
  }
  return parsed;
}

/** Loopback endpoints are the local emulators: they take the emulators' fixed credentials. */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function urlOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return value;
  } catch {
    throw new UsageError(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
}
