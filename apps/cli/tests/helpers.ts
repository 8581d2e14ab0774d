import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { JobRecord } from '@imgflow/pipeline';
import type { Io } from '../src/io.js';

export interface CapturedIo extends Io {
  out(): string;
  err(): string;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
}

/** An Io whose output is kept in memory; not a TTY, so `run` prints plain lines. */
export function captureIo(extra: Partial<Io> = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: sink(out),
    stderr: sink(err),
    env: {},
    ...extra,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'imgflow-cli-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function writeImage(path: string, width: number, height: number, format: 'jpeg' | 'png'): Promise<void> {
  const image = sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } }).composite([
    {
      input: await sharp({ create: { width: Math.round(width / 3), height: Math.round(height / 3), channels: 3, background: '#f0c040' } })
        .png()
        .toBuffer(),
      left: Math.round(width / 4),
      top: Math.round(height / 4),
    },
  ]);
  await (format === 'jpeg' ? image.jpeg() : image.png()).toFile(path);
}

/** The `imgflow` executable as a user runs it (built: tests run after the package's build). */
export const IMGFLOW_BIN = fileURLToPath(new URL('../bin/imgflow.js', import.meta.url));

/** A running `imgflow` process whose output is kept, with waits on it. */
export interface CliProcess {
  child: ChildProcess;
  out(): string;
  /** Resolves once stdout matches (rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** Resolves with the exit code (or 128 + signal number) and when it came. */
  exited: Promise<{ code: number; at: number }>;
}

export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [IMGFLOW_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<{ code: number; at: number }>((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), at: performance.now() }));
  });
  return {
    child,
    out: () => output,
    exited,
    waitFor(pattern, ms = 60_000) {
      return new Promise((resolveWait, rejectWait) => {
        const check = () => {
          if (!pattern.test(output)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolveWait();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          rejectWait(new Error(`no ${pattern} within ${ms} ms; output so far:\n${output}`));
        }, ms);
        listeners.add(check);
        void exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            if (pattern.test(output)) resolveWait();
            else rejectWait(new Error(`exited before ${pattern}; output:\n${output}`));
          }
        });
        check();
      });
    },
  };
}

/** A SUCCEEDED job record with the given outputs, for views and tables of a job. */
export function succeededRecord(outputs: JobRecord['outputs']): JobRecord {
  return {
    jobId: 'j1',
    status: 'SUCCEEDED',
    sourceBucket: 'uploads',
    sourceKey: 'uploads/a.jpg',
    etag: 'e',
    size: 100_000,
    executionId: 'x',
    attempts: 1,
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    outputs,
  };
}
