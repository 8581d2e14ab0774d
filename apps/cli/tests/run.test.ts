import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { JobRecord } from '@imgflow/pipeline';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImages } from '../src/commands/run.js';
import { showStatus } from '../src/commands/status.js';
import { captureIo, tempDir, writeImage } from './helpers.js';

let root: { path: string; remove: () => Promise<void> };
let images: string;
let data: string;
let out: string;

beforeAll(async () => {
  root = await tempDir();
  images = join(root.path, 'images');
  data = join(root.path, 'state');
  out = join(root.path, 'out');
  await mkdir(join(images, 'nested'), { recursive: true });
  await writeImage(join(images, 'wide.jpg'), 800, 600, 'jpeg');
  await writeImage(join(images, 'nested', 'small.png'), 500, 300, 'png');
  await writeFile(join(images, 'x.jpg'), 'this is text, not a JPEG\n');
  await writeFile(join(images, '.DS_Store'), 'dot-files are skipped');
});

afterAll(async () => {
  await root.remove();
});

describe('imgflow run', () => {
  it('processes a folder: valid images SUCCEEDED with outputs downloaded, the text file REJECTED', async () => {
    const io = captureIo();
    const outcome = await runImages({ inputs: [images], out, data, concurrency: '1', cwd: root.path }, io);

    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(1);
    expect(outcome.peakInFlight).toBe(1);
    const byKey = Object.fromEntries(outcome.results.map((result) => [result.file.key, result]));
    expect(Object.keys(byKey).sort()).toEqual(['uploads/nested/small.png', 'uploads/wide.jpg', 'uploads/x.jpg']);
    expect(byKey['uploads/wide.jpg']?.status).toBe('SUCCEEDED');
    expect(byKey['uploads/nested/small.png']?.status).toBe('SUCCEEDED');
    expect(byKey['uploads/x.jpg']?.status).toBe('REJECTED');
    expect(byKey['uploads/x.jpg']?.reason?.code).toBe('UNKNOWN_FORMAT');

    // The table: a header and one row per file, the rejected one with its reason.
    const text = io.out();
    const rows = text.split('\n').filter((line) => /^│ (images\/|File)/.test(line));
    expect(rows).toHaveLength(4);
    expect(text).toMatch(/│ images\/wide\.jpg\s+│ SUCCEEDED\s+│ 9\s+│/);
    expect(text).toMatch(/│ images\/x\.jpg\s+│ REJECTED\s+│ -\s+│.*UNKNOWN_FORMAT/);
    expect(text).toMatch(/^3 images: 2 succeeded, 1 rejected, 0 failed in \d+\.\ds; outputs in out$/m);
    // Not a terminal: one plain line per finished image.
    expect(text.match(/^\[\d\/3\] /gm)).toHaveLength(3);

    // The default recipe: 320/1024/2048 wide, never wider than the original; AVIF, WebP and JPEG each.
    const expected: Record<string, [string, number[]]> = {
      'uploads/wide': ['wide.jpg', [320, 800, 800]],
      'uploads/nested/small': ['small.png', [320, 500, 500]],
    };
    for (const [stem, [, widths]] of Object.entries(expected)) {
      for (const [index, rendition] of ['sm', 'md', 'lg'].entries()) {
        for (const extension of ['avif', 'webp', 'jpg']) {
          const path = join(out, stem, `${rendition}.${extension}`);
          expect(existsSync(path), path).toBe(true);
          const metadata = await sharp(await readFile(path)).metadata();
          expect(metadata.width, path).toBe(widths[index]);
        }
      }
    }
    expect(byKey['uploads/wide.jpg']?.downloaded).toHaveLength(9);
  });

  it('recognises a re-run of the same folder as the earlier run, without a second ledger record', async () => {
    const io = captureIo();
    const outcome = await runImages({ inputs: [images], out, data, cwd: root.path }, io);

    expect(outcome.exitCode).toBe(1);
    expect(outcome.results.map((result) => [result.file.key, result.status, result.note]).sort()).toEqual([
      ['uploads/nested/small.png', 'SUCCEEDED', 'earlier run'],
      ['uploads/wide.jpg', 'SUCCEEDED', 'earlier run'],
      ['uploads/x.jpg', 'REJECTED', 'earlier run'],
    ]);
    expect(io.out()).toMatch(/│ images\/wide\.jpg\s+│ SUCCEEDED \(earlier run\)\s+│ 9/);
    // The earlier record's outputs are downloaded again.
    expect(outcome.results.find((result) => result.file.key === 'uploads/wide.jpg')?.downloaded).toHaveLength(9);

    for (const key of ['wide.jpg', 'uploads/nested/small.png', 'x.jpg']) {
      const status = captureIo();
      expect(await showStatus({ target: key, data, json: true, cwd: root.path }, status)).toBe(0);
      const records = JSON.parse(status.out()) as JobRecord[];
      expect(records, key).toHaveLength(1);
    }
  });

  it('shows a job by id and by key after a run', async () => {
    const byKey = captureIo();
    expect(await showStatus({ target: 'x.jpg', data, json: true, cwd: root.path }, byKey)).toBe(0);
    const [record] = JSON.parse(byKey.out()) as JobRecord[];
    expect(record?.status).toBe('REJECTED');
    expect(record?.reasonCode).toBe('UNKNOWN_FORMAT');

    const byId = captureIo();
    expect(await showStatus({ target: record?.jobId, data, cwd: root.path }, byId)).toBe(0);
    expect(byId.out()).toContain(record?.jobId);
    expect(byId.out()).toMatch(/reason\s+│ UNKNOWN_FORMAT: /);

    const listing = captureIo();
    expect(await showStatus({ data, status: 'succeeded', cwd: root.path }, listing)).toBe(0);
    expect(listing.out()).toMatch(/^SUCCEEDED \(2\)$/m);
    expect(listing.out()).toContain('uploads/nested/small.png');
    expect(listing.out()).not.toContain('uploads/x.jpg');

    const missing = captureIo();
    expect(await showStatus({ target: '0'.repeat(32), data, cwd: root.path }, missing)).toBe(1);
    expect(missing.err()).toContain(`no job ${'0'.repeat(32)}`);
  });

  it('rejects a bad --concurrency with exit code 2 and one line naming it', async () => {
    const io = captureIo();
    const outcome = await runImages({ inputs: [images], concurrency: 'x', data, cwd: root.path }, io);
    expect(outcome.exitCode).toBe(2);
    expect(io.err()).toBe('imgflow run: --concurrency must be an integer from 1 to 64, got "x"\n');
    expect(io.out()).toBe('');

    const tooMany = captureIo();
    expect((await runImages({ inputs: [images], concurrency: '65', data, cwd: root.path }, tooMany)).exitCode).toBe(2);
    expect(tooMany.err()).toBe('imgflow run: --concurrency must be an integer from 1 to 64, got "65"\n');
  });

  it('rejects an invalid recipe with exit code 2 and the RecipeError naming the field', async () => {
    const recipe = join(root.path, 'recipe.json');
    await writeFile(recipe, JSON.stringify({ renditions: [{ name: 'thumb', width: -5 }] }));
    const io = captureIo();
    const outcome = await runImages({ inputs: [images], recipe: 'recipe.json', data, cwd: root.path }, io);
    expect(outcome.exitCode).toBe(2);
    expect(io.err()).toBe('imgflow run: --recipe recipe.json: Expected a number >= 1 for recipe.renditions[0].width but received -5 of type number\n');
  });

  it('rejects a missing input and an unreadable recipe with exit code 2', async () => {
    const missing = captureIo();
    expect((await runImages({ inputs: ['nope'], data, cwd: root.path }, missing)).exitCode).toBe(2);
    expect(missing.err()).toBe('imgflow run: no such file or folder: nope\n');

    const noRecipe = captureIo();
    expect((await runImages({ inputs: [images], recipe: 'absent.json', data, cwd: root.path }, noRecipe)).exitCode).toBe(2);
    expect(noRecipe.err()).toMatch(/^imgflow run: cannot read --recipe absent\.json: ENOENT/);
  });

  it('marks a content-cache hit "cached": the same bytes under another name', async () => {
    const folder = join(root.path, 'copies');
    await mkdir(folder);
    await writeImage(join(folder, 'a.jpg'), 400, 300, 'jpeg');
    await writeFile(join(folder, 'b.jpg'), await readFile(join(folder, 'a.jpg')));
    const io = captureIo();
    const outcome = await runImages({ inputs: [folder], out: join(root.path, 'copies-out'), data: join(root.path, 'copies-state'), concurrency: 1, cwd: root.path }, io);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.results.map((result) => [result.file.key, result.status, result.note ?? ''])).toEqual([
      ['uploads/a.jpg', 'SUCCEEDED', ''],
      ['uploads/b.jpg', 'SUCCEEDED', 'cached'],
    ]);
    expect(io.out()).toMatch(/│ copies\/b\.jpg\s+│ SUCCEEDED \(cached\)\s+│ 9/);
    expect(io.out()).toMatch(/^2 images: 2 succeeded, 0 rejected, 0 failed in /m);
  });

  it('stops cleanly when interrupted: finishes what runs, starts nothing new, exit 130', async () => {
    const controller = new AbortController();
    const out: string[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk.toString());
        // Ctrl-C as soon as the first image is done.
        if (chunk.toString().startsWith('[1/3]')) controller.abort();
        callback();
      },
    });
    const io = { ...captureIo(), stdout, signal: controller.signal };
    const state = join(root.path, 'interrupted-state');
    const outcome = await runImages({ inputs: [images], out: join(root.path, 'interrupted-out'), data: state, concurrency: 1, cwd: root.path }, io);
    expect(outcome.exitCode).toBe(130);
    expect(outcome.interrupted).toBe(true);
    expect(outcome.results).toHaveLength(1);
    expect(out.join('')).toMatch(/^interrupted: 2 of 3 images not processed$/m);
    // The stack was stopped: its data directory (and ledger lock) can be opened again.
    const status = captureIo();
    expect(await showStatus({ data: state, json: true, cwd: root.path }, status)).toBe(0);
    const byStatus = JSON.parse(status.out()) as Record<string, JobRecord[]>;
    expect(Object.values(byStatus).flat()).toHaveLength(1);
  });
});
