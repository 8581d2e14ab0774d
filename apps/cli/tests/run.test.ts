import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { awsError } from '@imgflow/local-runtime';
import type { JobRecord } from '@imgflow/pipeline';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageResult, runImages } from '../src/commands/run.js';
import { showStatus } from '../src/commands/status.js';
import { captureIo, spawnCli, tempDir, writeImage } from './helpers.js';

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

  it('takes HEIC only where the limits opt in: REJECTED FORMAT_NOT_ALLOWED by default, SUCCEEDED upright with heic accepted', async () => {
    const folder = join(root.path, 'heic');
    await mkdir(folder);
    // Stored sideways with an irot box (packages/image-core/tests/fixtures/heic/make-fixtures.mjs).
    const fixture = new URL('../../../packages/image-core/tests/fixtures/heic/rotated.heic', import.meta.url);
    await writeFile(join(folder, 'IMG_0001.HEIC'), await readFile(fixture));

    const refused = captureIo();
    const byDefault = await runImages({ inputs: [folder], data: join(root.path, 'heic-default'), cwd: root.path }, refused);
    expect(byDefault.results.map((result) => [result.status, result.reason?.code])).toEqual([['REJECTED', 'FORMAT_NOT_ALLOWED']]);
    expect(refused.out()).toMatch(/HEIC input is not accepted/);

    await writeFile(join(root.path, 'heic-limits.json'), JSON.stringify({ acceptedFormats: ['jpeg', 'png', 'heic'] }));
    const io = captureIo();
    const heicOut = join(root.path, 'heic-out');
    const accepted = await runImages({ inputs: [folder], limits: 'heic-limits.json', out: heicOut, data: join(root.path, 'heic-state'), cwd: root.path }, io);
    expect(io.err()).toBe('');
    expect(accepted.results.map((result) => result.status)).toEqual(['SUCCEEDED']);
    const jpeg = join(heicOut, 'uploads', 'IMG_0001', 'sm.jpg');
    expect(existsSync(jpeg)).toBe(true);
    const metadata = await sharp(jpeg).metadata();
    expect([metadata.width, metadata.height]).toEqual([96, 64]);
    // Upright: the red block of the fixture is in the top-left corner.
    const { data: corner } = await sharp(jpeg).extract({ left: 2, top: 2, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect(corner[0]).toBeGreaterThan(180);
    expect(corner[2]).toBeLessThan(70);
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

describe('imgflow run: every file ends with a row, and the run ends', () => {
  let folder: string;

  beforeAll(async () => {
    folder = join(root.path, 'robust');
    await mkdir(folder);
    await writeImage(join(folder, 'a.jpg'), 400, 300, 'jpeg');
    await writeImage(join(folder, 'b.png'), 300, 200, 'png');
  });

  const byKey = (results: ImageResult[]) => Object.fromEntries(results.map((result) => [result.file.key, result]));

  it('an execution that records its job under another key yields a row saying so, found through its own report', async () => {
    const io = captureIo();
    const outcome = await runImages(
      {
        inputs: [folder],
        out: join(root.path, 'elsewhere-out'),
        data: join(root.path, 'elsewhere-state'),
        concurrency: 2,
        cwd: root.path,
        // The trigger writes another key into b.png's event (as a decoding trigger turns `c++.jpg` into `c  .jpg`).
        prepare: (stack) => {
          const execute = stack.execute.bind(stack);
          stack.execute = (event, listener) => {
            const object = event.detail.object;
            const moved = object.key === 'uploads/b.png' ? { ...event, detail: { ...event.detail, object: { ...object, key: 'uploads/b moved.png' } } } : event;
            return execute(moved, listener);
          };
        },
      },
      io,
    );
    expect(outcome.exitCode).toBe(1);
    const rows = byKey(outcome.results);
    expect(rows['uploads/a.jpg']?.status).toBe('SUCCEEDED');
    expect(rows['uploads/b.png']).toMatchObject({ status: 'FAILED', reason: { code: 'RECORDED_ELSEWHERE' } });
    expect(rows['uploads/b.png']?.reason?.message).toMatch(/^its execution recorded it under the key "uploads\/b moved\.png" \(job [0-9a-f]{32}\): REJECTED SOURCE_MISSING$/);
    expect(io.out()).toMatch(/^2 images: 1 succeeded, 0 rejected, 1 failed in /m);
  });

  it('an upload that fails yields a row with the error, and the others go on', async () => {
    const io = captureIo();
    const outcome = await runImages(
      {
        inputs: [folder],
        out: join(root.path, 'upload-out'),
        data: join(root.path, 'upload-state'),
        concurrency: 2,
        cwd: root.path,
        prepare: (stack) => {
          const submit = stack.submit.bind(stack);
          stack.submit = (key, body, contentType) =>
            key === 'uploads/a.jpg' ? Promise.reject(awsError('InternalError', 500, 'We encountered an internal error. Please try again.')) : submit(key, body, contentType);
        },
      },
      io,
    );
    expect(outcome.exitCode).toBe(1);
    const rows = byKey(outcome.results);
    expect(rows['uploads/a.jpg']).toMatchObject({ status: 'FAILED', reason: { code: 'UPLOAD_FAILED', message: 'We encountered an internal error. Please try again. (HTTP 500)' } });
    expect(rows['uploads/b.png']?.status).toBe('SUCCEEDED');
  });

  it('an upload that starts no execution yields a row after the start timeout', async () => {
    const io = captureIo();
    const started = performance.now();
    const outcome = await runImages(
      {
        inputs: [folder],
        out: join(root.path, 'dropped-out'),
        data: join(root.path, 'dropped-state'),
        concurrency: 2,
        cwd: root.path,
        startTimeoutMs: 1000,
        // EventBridge refuses a.jpg's event (e.g. its role may not start the state machine).
        prepare: (stack) => {
          const execute = stack.execute.bind(stack);
          stack.execute = (event, listener) =>
            event.detail.object.key === 'uploads/a.jpg' ? Promise.reject(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' })) : execute(event, listener);
        },
      },
      io,
    );
    expect(performance.now() - started).toBeLessThan(30_000);
    const rows = byKey(outcome.results);
    expect(rows['uploads/a.jpg']).toMatchObject({ status: 'FAILED', reason: { code: 'NO_EXECUTION' } });
    expect(rows['uploads/a.jpg']?.reason?.message).toBe('the upload started no workflow execution within 1s (the trigger dropped or refused its event)');
    expect(rows['uploads/b.png']?.status).toBe('SUCCEEDED');
  });

  it('an execution that does not end is given up after the execution timeout, stopped, and the run ends', async () => {
    const io = captureIo();
    const started = performance.now();
    const outcome = await runImages(
      {
        inputs: [join(folder, 'a.jpg')],
        out: join(root.path, 'stuck-out'),
        data: join(root.path, 'stuck-state'),
        cwd: root.path,
        // Long enough for the functions' cold starts (each runs in its Lambda sandbox) to reach OptimizeImage.
        executionTimeoutMs: 6000,
        prepare: (stack) => stack.faults.failState('OptimizeImage', { times: 1, delayMs: 60_000, delayOnly: true, error: () => new Error('unused') }),
      },
      io,
    );
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.results[0]).toMatchObject({ status: 'FAILED', reason: { code: 'EXECUTION_TIMEOUT' } });
    expect(outcome.results[0]?.reason?.message).toMatch(/^execution \S+ was still running after 6s \(last in OptimizeImage\); see `imgflow status [0-9a-f]{32}`$/);
  });

  it('IMGFLOW_FAULTS that is not valid is a usage error, before anything starts', async () => {
    const io = captureIo({ env: { IMGFLOW_FAULTS: '[{"state":"ResizeImage"}]' } });
    const outcome = await runImages({ inputs: [folder], data: join(root.path, 'never'), cwd: root.path }, io);
    expect(outcome.exitCode).toBe(2);
    expect(io.err()).toBe('imgflow run: IMGFLOW_FAULTS [0]: give "error", "delayMs" or both\n');
    expect(existsSync(join(root.path, 'never'))).toBe(false);
  });
});

describe('imgflow run as a process: SIGTERM / SIGINT', () => {
  let folder: string;

  beforeAll(async () => {
    folder = join(root.path, 'signals');
    await mkdir(folder);
    for (const name of ['one', 'two', 'three']) await writeImage(join(folder, `${name}.jpg`), 320, 240, 'jpeg');
  });

  // Every execution sits in ResizeImage for a minute: the run would take minutes without the signal.
  const slow = { IMGFLOW_FAULTS: JSON.stringify({ state: 'ResizeImage', delayMs: 60_000, times: 100 }) };

  it('a first SIGTERM stops it within seconds: no new uploads, the executions in flight marked INTERRUPTED, exit 130', async () => {
    const data = join(root.path, 'sigterm-state');
    const cli = spawnCli(['run', folder, '--data', data, '--out', join(root.path, 'sigterm-out'), '--concurrency', '2'], slow);
    await cli.waitFor(/^imgflow run: 3 images, 2 at a time/m);
    // Both executions reach ResizeImage (validated and claimed) well within this.
    await new Promise((resolveWait) => setTimeout(resolveWait, 2500));
    const signalled = performance.now();
    cli.child.kill('SIGTERM');
    const { code, at } = await cli.exited;
    expect(code, cli.out()).toBe(130);
    // 5 s of grace, then the executions are stopped and the emulators with them.
    expect(at - signalled).toBeLessThan(12_000);
    const out = cli.out();
    expect(out).toContain('imgflow run: stopping: no new uploads; 2 images in flight get 5s to finish');
    expect(out.match(/^\[\d\/3\] INTERRUPTED /gm)).toHaveLength(2);
    expect(out).toMatch(/│ INTERRUPTED\s+│/);
    expect(out).toMatch(/^2 images: 0 succeeded, 0 rejected, 0 failed, 2 interrupted in /m);
    expect(out).toMatch(/^interrupted: 3 of 3 images not processed$/m);

    // The data folder is free again, and the next run takes the interrupted jobs over.
    const status = captureIo();
    expect(await showStatus({ data, json: true, cwd: root.path }, status)).toBe(0);
    const records = Object.values(JSON.parse(status.out()) as Record<string, JobRecord[]>).flat();
    expect(records.map((record) => record.status).sort()).toEqual(['PROCESSING', 'PROCESSING']);
    const rerun = await runImages({ inputs: [folder], data, out: join(root.path, 'sigterm-out'), cwd: root.path }, captureIo());
    expect(rerun.exitCode).toBe(0);
    expect(rerun.results.map((result) => result.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('a second signal exits at once', async () => {
    const cli = spawnCli(['run', folder, '--data', join(root.path, 'twice-state'), '--out', join(root.path, 'twice-out')], slow);
    await cli.waitFor(/^imgflow run: 3 images/m);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1500));
    cli.child.kill('SIGTERM');
    await cli.waitFor(/stopping: no new uploads/);
    const second = performance.now();
    cli.child.kill('SIGINT');
    const { code, at } = await cli.exited;
    expect(code).toBe(130);
    expect(at - second).toBeLessThan(2000);
    expect(cli.out()).toContain('imgflow: SIGINT again: exiting now');
  });
});
