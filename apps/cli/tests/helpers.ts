import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
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
