import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_TABLE, UPLOAD_BUCKET } from '@imgflow/local-runtime';
import { type ConsoleHandle, startConsole } from '../src/commands/console.js';
import { startDev } from '../src/commands/dev.js';
import { runImages } from '../src/commands/run.js';
import type { JobSummary } from '../src/console/summary.js';
import type { Timeline } from '../src/console/timeline.js';
import { captureIo, tempDir, writeImage } from './helpers.js';

/** A file name a browser would show as markup if it were not escaped. */
const HOSTILE_NAME = '<img src=x onerror=alert(1)>.png';

let root: { path: string; remove: () => Promise<void> };
let data: string;
let recipe: string;
let console_: ConsoleHandle;
let base: string;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request whose path goes out exactly as written (fetch would normalise `..` away). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolveResponse, rejectResponse) => {
    const outgoing = request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolveResponse({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', rejectResponse);
    });
    outgoing.on('error', rejectResponse);
    outgoing.end(options.body);
  });
}

async function json<T>(path: string): Promise<T> {
  const response = await fetch(new URL(path, base));
  expect(response.status, path).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as T;
}

async function text(path: string): Promise<string> {
  const response = await fetch(new URL(path, base));
  expect(response.status, path).toBe(200);
  return response.text();
}

async function jobs(query = ''): Promise<{ total: number; jobs: JobSummary[] }> {
  return json(`/api/jobs${query}`);
}

async function jobByKey(key: string): Promise<JobSummary> {
  const found = (await jobs()).jobs.find((job) => job.sourceKey === key);
  if (!found) throw new Error(`no job for ${key}`);
  return found;
}

beforeAll(async () => {
  root = await tempDir();
  const images = join(root.path, 'images');
  data = join(root.path, 'state');
  recipe = join(root.path, 'recipe.json');
  await mkdir(images, { recursive: true });
  await writeImage(join(images, 'photo.jpg'), 800, 600, 'jpeg');
  await writeImage(join(images, HOSTILE_NAME), 400, 300, 'png');
  await writeFile(join(images, 'notes.jpg'), 'this is text, not a JPEG\n');
  // Small and quick: two widths, WebP and JPEG.
  await writeFile(recipe, JSON.stringify({ renditions: [{ name: 'thumb', width: 160 }, { name: 'small', width: 320 }], formats: ['webp', 'jpeg'] }));
  const run = await runImages({ inputs: [images], out: join(root.path, 'out'), data, recipe, concurrency: '2', cwd: root.path }, captureIo());
  expect(run.results.map((result) => result.status).sort()).toEqual(['REJECTED', 'SUCCEEDED', 'SUCCEEDED']);
  console_ = await startConsole({ data, port: 0, recipe, cwd: root.path, pollMs: 100 }, captureIo());
  base = console_.server.url;
});

afterAll(async () => {
  await console_?.stop();
  await root.remove();
});

describe('imgflow console: data endpoints', () => {
  it('listens on loopback and says what it shows', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const health = await json<{ ok: boolean; mode: string; upload: boolean; where: string }>('/api/health');
    expect(health).toMatchObject({ ok: true, mode: 'local', upload: true });
    expect(health.where).toContain(data);
  });

  it('/api/jobs lists every job of the run with status, size, format, dimensions and the rejection reason', async () => {
    const list = await jobs();
    expect(list.total).toBe(3);
    const photo = await jobByKey('uploads/photo.jpg');
    expect(photo).toMatchObject({ status: 'SUCCEEDED', format: 'jpeg', width: 800, height: 600, renditions: 4, thumbnail: true });
    expect(photo.size).toBeGreaterThan(0);
    expect(photo.stepMs).toBeGreaterThan(0);
    const notes = await jobByKey('uploads/notes.jpg');
    expect(notes).toMatchObject({ status: 'REJECTED', reasonCode: 'UNKNOWN_FORMAT', renditions: 0, thumbnail: false });
  });

  it('/api/jobs filters by status and searches by key', async () => {
    expect((await jobs('?status=rejected')).jobs.map((job) => job.sourceKey)).toEqual(['uploads/notes.jpg']);
    expect((await jobs('?status=SUCCEEDED')).jobs).toHaveLength(2);
    expect((await jobs('?q=PHOTO')).jobs.map((job) => job.sourceKey)).toEqual(['uploads/photo.jpg']);
    expect((await jobs('?q=nothing-like-it')).jobs).toEqual([]);
  });

  it('/api/jobs/:id gives the record and a URL per rendition × format that serves that image', async () => {
    const photo = await jobByKey('uploads/photo.jpg');
    const detail = await json<{
      job: { jobId: string; placeholder?: { dominantColor: string } };
      media: { original: string; thumbnail: string; placeholder: string | null; outputs: Array<{ rendition: string; format: string; width: number; height: number; bytes: number; url: string; savings: number }> };
    }>(`/api/jobs/${photo.jobId}`);
    expect(detail.job.jobId).toBe(photo.jobId);
    expect(detail.media.outputs.map((output) => `${output.rendition}.${output.format}`).sort()).toEqual(['small.jpeg', 'small.webp', 'thumb.jpeg', 'thumb.webp']);
    for (const output of detail.media.outputs) {
      const response = await fetch(new URL(output.url, base));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(`image/${output.format}`);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBe(output.bytes);
      const meta = await sharp(body).metadata();
      expect([meta.width, meta.height]).toEqual([output.width, output.height]);
      expect(output.savings).toBeCloseTo(1 - output.bytes / photo.size, 6);
    }
    const original = await fetch(new URL(detail.media.original, base));
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await original.arrayBuffer())).metadata()).width).toBe(800);
    const thumbnail = await fetch(new URL(detail.media.thumbnail, base));
    expect((await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata()).width).toBe(160);
    expect(detail.media.placeholder).not.toBeNull();
    const placeholder = await fetch(new URL(detail.media.placeholder as string, base));
    expect(placeholder.headers.get('content-type')).toBe('image/png');
    const decoded = await sharp(Buffer.from(await placeholder.arrayBuffer())).metadata();
    expect(decoded.format).toBe('png');
    expect(decoded.width).toBeGreaterThan(0);
    expect(detail.job.placeholder?.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('/api/jobs/:id/timeline has one bar per state the execution entered, from the recorded history', async () => {
    const photo = await jobByKey('uploads/photo.jpg');
    const { timeline, runs } = await json<{ timeline: Timeline; runs: number }>(`/api/jobs/${photo.jobId}/timeline`);
    expect(runs).toBe(1);
    expect(timeline.source).toBe('execution');
    expect(timeline.status).toBe('SUCCEEDED');
    const states = timeline.bars.map((bar) => bar.state);
    for (const state of ['ValidateImage', 'ProcessImage', 'ResizeImage', 'ApplyFilters', 'OptimizeImage', 'NotifySuccess']) expect(states).toContain(state);
    expect(new Set(states).size).toBe(states.length);
    for (const bar of timeline.bars) {
      expect(bar.end).toBeGreaterThanOrEqual(bar.start);
      expect(bar.end).toBeLessThanOrEqual(timeline.totalMs);
      expect(bar.error).toBeUndefined();
    }
    const validate = timeline.bars.find((bar) => bar.state === 'ValidateImage');
    const optimize = timeline.bars.find((bar) => bar.state === 'OptimizeImage');
    expect(optimize?.start).toBeGreaterThanOrEqual(validate?.end ?? Number.POSITIVE_INFINITY);
    // The rejected job's execution went through NotifyError.
    const notes = await jobByKey('uploads/notes.jpg');
    const rejected = await json<{ timeline: Timeline }>(`/api/jobs/${notes.jobId}/timeline`);
    expect(rejected.timeline.bars.map((bar) => bar.state)).toContain('NotifyError');
  });

  it('/api/totals counts images, bytes, savings per format, step-time percentiles and reason codes', async () => {
    const totals = await json<{
      images: number;
      byStatus: Record<string, number>;
      bytesIn: number;
      bytesOut: number;
      formats: Array<{ format: string; outputs: number; savings: number }>;
      p50Ms: number;
      p95Ms: number;
      reasons: Array<{ code: string; count: number }>;
    }>('/api/totals');
    expect(totals.images).toBe(3);
    expect(totals.byStatus).toEqual({ SUCCEEDED: 2, REJECTED: 1 });
    expect(totals.formats.map((format) => [format.format, format.outputs])).toEqual([
      ['jpeg', 4],
      ['webp', 4],
    ]);
    expect(totals.bytesOut).toBeGreaterThan(0);
    expect(totals.p95Ms).toBeGreaterThanOrEqual(totals.p50Ms);
    expect(totals.reasons).toEqual([{ code: 'UNKNOWN_FORMAT', count: 1 }]);
  });

  it('serves every view as HTML with the test ids the browser tests use', async () => {
    const photo = await jobByKey('uploads/photo.jpg');
    const list = await text('/');
    expect(list.match(/data-testid="job-row"/g)).toHaveLength(3);
    expect(list).toContain('UNKNOWN_FORMAT');
    const one = await text(`/jobs/${photo.jobId}`);
    expect(one.match(/data-testid="rendition"/g)).toHaveLength(4);
    expect(one).toContain('data-testid="placeholder-image"');
    expect(one).toContain('data-testid="dominant-colour"');
    const { timeline } = await json<{ timeline: Timeline }>(`/api/jobs/${photo.jobId}/timeline`);
    const timelinePage = await text(`/jobs/${photo.jobId}/timeline`);
    expect(timelinePage.match(/data-testid="timeline-bar"/g)).toHaveLength(timeline.bars.length);
    expect(await text('/totals')).toContain('data-testid="chart-savings"');
    expect(await text('/upload')).toContain('data-testid="dropzone"');
    const script = await fetch(new URL('/assets/client.js', base));
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100);
    expect((await fetch(new URL('/assets/console.css', base))).status).toBe(200);
  });
});

describe('imgflow console: uploads and live updates', () => {
  it('an upload starts the workflow and the event stream pushes the job until it is SUCCEEDED', async () => {
    const body = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3366aa' } }).png().toBuffer();
    const events = await fetch(new URL(`/api/events?since=${encodeURIComponent(new Date().toISOString())}`, base));
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const upload = await fetch(new URL('/api/uploads?name=dropped.png', base), { method: 'POST', headers: { 'Content-Type': 'image/png' }, body });
    expect(upload.status).toBe(201);
    const { jobId, key } = (await upload.json()) as { jobId: string; key: string };
    expect(key).toBe('uploads/dropped.png');
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    let stream = '';
    const decoder = new TextDecoder();
    const deadline = Date.now() + 60_000;
    const succeeded = new RegExp(`"jobId":"${jobId}","status":"SUCCEEDED"`);
    while (!succeeded.test(stream) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stream += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    expect(stream).toMatch(/event: job\n/);
    expect(stream).toMatch(succeeded);
    const detail = await json<{ job: { status: string; sourceKey: string } }>(`/api/jobs/${jobId}`);
    expect(detail.job).toMatchObject({ status: 'SUCCEEDED', sourceKey: 'uploads/dropped.png' });
    // The upload's execution was recorded while the console ran: its timeline is the engine's.
    const { timeline } = await json<{ timeline: Timeline }>(`/api/jobs/${jobId}/timeline`);
    expect(timeline.source).toBe('execution');
  });

  it('an upload keeps only the base name of the file name it is given', async () => {
    const response = await fetch(new URL(`/api/uploads?name=${encodeURIComponent('../../etc/evil.png')}`, base), {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: 'not really a png',
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { key: string }).key).toBe('uploads/evil.png');
    for (const name of ['', '..', '.', 'a\u0000b.png']) {
      const refused = await fetch(new URL(`/api/uploads?name=${encodeURIComponent(name)}`, base), { method: 'POST', body: 'x' });
      expect(refused.status, JSON.stringify(name)).toBe(400);
    }
  });
});

describe('imgflow console: nothing outside the project data', () => {
  it('answers 404 to path traversal in media, asset and page paths', async () => {
    const photo = await jobByKey('uploads/photo.jpg');
    const attempts = [
      '/media/../../../../etc/passwd',
      '/media/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      `/media/${photo.jobId}/outputs/..%2F..%2F..%2Fpackage.json`,
      `/media/${photo.jobId}/outputs/0/../../../../package.json`,
      `/media/${photo.jobId}/outputs/-1`,
      `/media/${photo.jobId}/outputs/99`,
      `/media/${photo.jobId}/original%2F..%2F..%2Fdynamodb`,
      '/media/..%2F..%2F..%2Fetc%2Fpasswd/original',
      '/media/uploads%2Fphoto.jpg/original',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/../../package.json',
      '/assets/client.ts',
      '/jobs/..%2F..%2Fetc%2Fpasswd',
      '/api/jobs/..%2F..%2Fetc%2Fpasswd',
      '/s3/imgflow-uploads-000000000000-us-east-1/uploads/photo.jpg',
    ];
    for (const path of attempts) {
      const response = await raw(path);
      expect(response.status, path).toBe(404);
      const body = response.body.toString();
      expect(body, path).not.toMatch(/root:|"name": "@imgflow|\xff\xd8/);
    }
  });

  it('escapes HTML in keys on every page and in pushed rows', async () => {
    const hostile = await jobByKey(`uploads/${HOSTILE_NAME}`);
    expect(hostile.status).toBe('SUCCEEDED');
    const escaped = '&lt;img src=x onerror=alert(1)&gt;.png';
    for (const path of ['/', `/jobs/${hostile.jobId}`, `/jobs/${hostile.jobId}/timeline`, `/?q=${encodeURIComponent('<img')}`]) {
      const page = await text(path);
      expect(page, path).toContain(escaped);
      expect(page, path).not.toContain('<img src=x');
    }
    // A search term is echoed into the form escaped too.
    expect(await text(`/?q=${encodeURIComponent('"><script>alert(1)</script>')}`)).not.toContain('<script>alert(1)');
    const events = await fetch(new URL(`/api/events?since=${encodeURIComponent(new Date(0).toISOString())}`, base));
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    let stream = '';
    while (!stream.includes(hostile.jobId)) {
      const { value, done } = await reader.read();
      if (done) break;
      stream += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const pushed = stream.split('\n').find((line) => line.startsWith('data: ') && line.includes(hostile.jobId)) ?? '';
    const row = (JSON.parse(pushed.slice('data: '.length)) as { row: string }).row;
    expect(row).toContain(escaped);
    expect(row).not.toContain('<img src=x');
  });

  it('refuses other Host names (DNS rebinding) and cross-site posts', async () => {
    expect((await raw('/api/jobs', { headers: { Host: 'evil.example:80' } })).status).toBe(403);
    const crossSite = await raw('/api/uploads?name=x.png', { method: 'POST', headers: { Origin: 'http://evil.example', 'Content-Type': 'image/png' }, body: Buffer.from('x') });
    expect(crossSite.status).toBe(403);
  });

  it('sends no-sniff and a same-origin content security policy', async () => {
    const response = await fetch(new URL('/', base));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});

describe('imgflow console --remote', () => {
  it('reads a deployed ledger, uploads into its bucket and shows renditions through presigned URLs', async () => {
    // `imgflow dev` stands in for the deployment: its DynamoDB and S3 endpoints, its trigger.
    const dev = await startDev({ data: join(root.path, 'remote'), s3Port: 0, dynamodbPort: 0, snsPort: 0 }, captureIo());
    const remote = await startConsole(
      { remote: true, table: JOBS_TABLE, bucket: UPLOAD_BUCKET, endpointUrl: dev.endpoints.dynamodb, s3EndpointUrl: dev.endpoints.s3, port: 0 },
      captureIo(),
    );
    try {
      const url = (path: string) => new URL(path, remote.server.url);
      expect(await (await fetch(url('/api/health'))).json()).toMatchObject({ ok: true, mode: 'remote', upload: true });
      const body = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#aa5533' } }).jpeg().toBuffer();
      const upload = await fetch(url('/api/uploads?name=remote.jpg'), { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body });
      expect(upload.status).toBe(201);
      const { jobId } = (await upload.json()) as { jobId: string };
      let status = '';
      for (const deadline = Date.now() + 60_000; status !== 'SUCCEEDED' && Date.now() < deadline; ) {
        const response = await fetch(url(`/api/jobs/${jobId}`));
        status = response.status === 200 ? ((await response.json()) as { job: { status: string } }).job.status : '';
        if (status !== 'SUCCEEDED') await new Promise((resolveTimer) => setTimeout(resolveTimer, 250));
      }
      expect(status).toBe('SUCCEEDED');
      const detail = (await (await fetch(url(`/api/jobs/${jobId}`))).json()) as { media: { outputs: Array<{ url: string; bytes: number }> } };
      const first = detail.media.outputs[0] as { url: string; bytes: number };
      const redirect = await fetch(url(first.url), { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      const location = redirect.headers.get('location') ?? '';
      expect(location.startsWith(dev.endpoints.s3)).toBe(true);
      expect(location).toContain('X-Amz-Signature=');
      const image = await fetch(location);
      expect(image.status).toBe(200);
      expect((await image.arrayBuffer()).byteLength).toBe(first.bytes);
      // No execution history remotely: the ledger's per-step timings.
      const timeline = (await (await fetch(url(`/api/jobs/${jobId}/timeline`))).json()) as { timeline: Timeline };
      expect(timeline.timeline.source).toBe('timings');
      expect(timeline.timeline.bars.map((bar) => bar.state)).toContain('ValidateImage');
    } finally {
      await remote.stop();
      await dev.stop();
    }
  });
});
