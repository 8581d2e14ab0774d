import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { JobRecord } from '@imgflow/pipeline';
import { decode as decodeBlurhash } from 'blurhash';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { html } from 'hono/html';
import { streamSSE } from 'hono/streaming';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { STATUSES } from '../commands/status.js';
import { UPLOAD_PREFIX } from '../files.js';
import type { ConsoleData } from './data.js';
import { type JobChange, JobFeed } from './feed.js';
import { savings, summarize, thumbnailOutput, totals } from './summary.js';
import { type Timeline, timelineFromHistory, timelineFromTimings } from './timeline.js';
import { jobView } from './views/job.js';
import { type JobFilter, jobRow, jobsView, matches } from './views/jobs.js';
import { type Html, page } from './views/layout.js';
import { timelineView } from './views/timeline.js';
import { totalsView } from './views/totals.js';
import { uploadView } from './views/upload.js';

export const DEFAULT_CONSOLE_PORT = 4580;
/** The largest file the Upload view takes (the pipeline's own limits then apply). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

const JOB_ID = /^[0-9a-f]{32}$/;

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  heif: 'image/heif',
  heic: 'image/heic',
  tiff: 'image/tiff',
};

/** The built client assets (tsup writes them to dist/console): served by name, never by a path from the URL. */
const ASSETS: Record<string, string> = {
  'client.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** dist/console beside the bundle (dist/main.js, dist/index.js), or the package's dist/console from src/console (tests). */
function assetCandidates(name: string): string[] {
  return [new URL(`./console/${name}`, import.meta.url), new URL(`../../dist/console/${name}`, import.meta.url)].map((url) => fileURLToPath(url));
}

const assetCache = new Map<string, Buffer>();

async function readAsset(name: string): Promise<Buffer | undefined> {
  const cached = assetCache.get(name);
  if (cached) return cached;
  for (const path of assetCandidates(name)) {
    try {
      const body = await readFile(path);
      assetCache.set(name, body);
      return body;
    } catch {
      // the next candidate
    }
  }
  return undefined;
}

/**
 * The key an uploaded file gets: its base name (any folder part dropped) under uploads/. A name
 * that is empty, a dot path or holds control characters is refused.
 */
export function uploadKey(fileName: string): string | undefined {
  const base = (fileName.split(/[\\/]/).pop() ?? '').trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (base === '' || base === '.' || base === '..' || /[\u0000-\u001f\u007f]/.test(base) || Buffer.byteLength(base) > 512) return undefined;
  return `${UPLOAD_PREFIX}${base}`;
}

export function placeholderPng(record: Pick<JobRecord, 'placeholder' | 'width' | 'height'>): Promise<Buffer> | undefined {
  const placeholder = record.placeholder;
  if (!placeholder?.hash) return undefined;
  try {
    if (placeholder.kind === 'thumbhash') {
      const { w, h, rgba } = thumbHashToRGBA(Buffer.from(placeholder.hash, 'base64'));
      return sharp(Buffer.from(rgba), { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
    }
    if (placeholder.kind === 'blurhash') {
      const width = 32;
      const height = Math.max(1, Math.min(128, Math.round((width * (record.height ?? 1)) / (record.width ?? 1))));
      const pixels = decodeBlurhash(placeholder.hash, width, height);
      return sharp(Buffer.from(pixels), { raw: { width, height, channels: 4 } }).png().toBuffer();
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function filterOf(c: Context): JobFilter {
  const status = c.req.query('status')?.toUpperCase();
  const q = c.req.query('q')?.trim();
  return {
    ...(status && (STATUSES as readonly string[]).includes(status) ? { status } : {}),
    ...(q ? { q } : {}),
  };
}

/** The newest `updatedAt` of what a page shows: live updates start from there. */
function newest(records: readonly JobRecord[]): string {
  return records.map((record) => record.updatedAt).sort().at(-1) ?? new Date(0).toISOString();
}

export interface ConsoleServerOptions {
  data: ConsoleData;
  /** 0 picks a free port (tests). Default DEFAULT_CONSOLE_PORT. */
  port?: number;
  /** Loopback only by default. */
  host?: string;
  /** How often the live feed reads the ledger (ms). */
  pollMs?: number;
}

export interface ConsoleServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The console's routes over a ConsoleData. Every object served is named by a job record the
 * ledger returned (bucket and key from the record, the output by its index in it): nothing in a
 * URL becomes a path or a key. Pages are server-rendered with every value escaped (hono/html).
 */
export function consoleApp(data: ConsoleData, feed: JobFeed, allowedHosts: () => readonly string[]): Hono {
  const app = new Hono();
  const render = (c: Context, title: string, body: Html, options: { section?: 'jobs' | 'upload' | 'totals'; live?: { since: string; job?: string } } = {}) =>
    c.html(page({ title, where: data.where, body, ...options }));

  app.use('*', async (c, next) => {
    // Loopback host names only (a page on another site cannot reach the console through DNS rebinding),
    // and a cross-site POST is refused.
    const host = c.req.header('host') ?? '';
    if (!allowedHosts().includes(host)) return c.text('Forbidden host', 403);
    const origin = c.req.header('origin');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && origin && origin !== `http://${host}`) return c.text('Forbidden origin', 403);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    // Scripts only from the console itself; remotely, pictures come from S3 (presigned URLs).
    c.header(
      'Content-Security-Policy',
      `default-src 'self'; img-src 'self' data: blob:${data.mode === 'remote' ? ' https: http:' : ''}; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'`,
    );
    await next();
  });

  const jobOf = async (c: Context): Promise<JobRecord | undefined> => {
    const jobId = c.req.param('jobId') ?? '';
    return JOB_ID.test(jobId) ? data.getJob(jobId) : undefined;
  };

  const sendMedia = async (c: Context, bucket: string | undefined, key: string | undefined, format: string | undefined) => {
    if (!bucket || !key) return c.notFound();
    const media = await data.media(bucket, key);
    if (!media) return c.notFound();
    if (media.kind === 'redirect') return c.redirect(media.url, 302);
    return c.body(media.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': CONTENT_TYPES[format ?? ''] ?? 'application/octet-stream',
      'Cache-Control': 'private, max-age=60',
    });
  };

  const timelineOf = async (record: JobRecord, run: string | undefined): Promise<{ timeline: Timeline | undefined; runs: number; shown: number }> => {
    const histories = await data.histories(record.jobId);
    if (histories.length === 0) return { timeline: record.timings ? timelineFromTimings(record) : undefined, runs: 0, shown: 0 };
    const wanted = run !== undefined && /^\d+$/.test(run) ? Number(run) : histories.length - 1;
    const shown = Math.min(Math.max(0, wanted), histories.length - 1);
    return { timeline: timelineFromHistory(histories[shown] as (typeof histories)[number], Date.now()), runs: histories.length, shown };
  };

  // Pages
  app.get('/', async (c) => {
    const records = await data.listJobs();
    return render(c, 'Jobs', jobsView(records.map(summarize), filterOf(c), records.length), { section: 'jobs', live: { since: newest(records) } });
  });
  app.get('/jobs/:jobId', async (c) => {
    const record = await jobOf(c);
    if (!record) return c.notFound();
    return render(c, record.sourceKey, jobView(record), { section: 'jobs', live: { since: record.updatedAt, job: record.jobId } });
  });
  app.get('/jobs/:jobId/timeline', async (c) => {
    const record = await jobOf(c);
    if (!record) return c.notFound();
    const { timeline, runs, shown } = await timelineOf(record, c.req.query('run'));
    return render(c, `Timeline of ${record.sourceKey}`, timelineView(record, timeline, runs, shown), { section: 'jobs' });
  });
  app.get('/upload', (c) =>
    render(c, 'Upload', uploadView(data.upload !== undefined, data.mode === 'local' ? 'the local upload bucket' : 'the upload bucket'), {
      section: 'upload',
      live: { since: new Date().toISOString() },
    }),
  );
  app.get('/totals', async (c) => render(c, 'Totals', totalsView(totals(await data.listJobs())), { section: 'totals' }));

  // Objects named by job records
  app.get('/media/:jobId/original', async (c) => {
    const record = await jobOf(c);
    return record ? sendMedia(c, record.sourceBucket, record.sourceKey, record.format) : c.notFound();
  });
  app.get('/media/:jobId/thumbnail', async (c) => {
    const record = await jobOf(c);
    const output = record && thumbnailOutput(record);
    return record && output ? sendMedia(c, record.outputBucket, output.key, output.format) : c.notFound();
  });
  app.get('/media/:jobId/outputs/:index', async (c) => {
    const index = c.req.param('index');
    if (!/^\d{1,4}$/.test(index)) return c.notFound();
    const record = await jobOf(c);
    const output = record?.outputs?.[Number(index)];
    return record && output ? sendMedia(c, record.outputBucket, output.key, output.format) : c.notFound();
  });
  app.get('/media/:jobId/placeholder.png', async (c) => {
    const record = await jobOf(c);
    const png = record && (await placeholderPng(record));
    return png ? c.body(new Uint8Array(png), 200, { 'Content-Type': 'image/png', 'Cache-Control': 'private, max-age=3600' }) : c.notFound();
  });
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    const body = type ? await readAsset(name) : undefined;
    return type && body ? c.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' }) : c.notFound();
  });

  // JSON
  app.get('/api/health', (c) => c.json({ ok: true, mode: data.mode, where: data.where, upload: data.upload !== undefined }));
  app.get('/api/jobs', async (c) => {
    const records = await data.listJobs();
    const filter = filterOf(c);
    return c.json({ total: records.length, jobs: records.map(summarize).filter((job) => matches(job, filter)) });
  });
  app.get('/api/jobs/:jobId', async (c) => {
    const record = await jobOf(c);
    if (!record) return c.json({ error: 'no such job' }, 404);
    return c.json({
      job: record,
      summary: summarize(record),
      media: {
        original: `/media/${record.jobId}/original`,
        thumbnail: thumbnailOutput(record) ? `/media/${record.jobId}/thumbnail` : null,
        placeholder: record.placeholder?.hash ? `/media/${record.jobId}/placeholder.png` : null,
        outputs: (record.outputs ?? []).map((output, index) => ({ ...output, url: `/media/${record.jobId}/outputs/${index}`, savings: savings(output.bytes, record.size) })),
      },
    });
  });
  app.get('/api/jobs/:jobId/timeline', async (c) => {
    const record = await jobOf(c);
    if (!record) return c.json({ error: 'no such job' }, 404);
    const { timeline, runs, shown } = await timelineOf(record, c.req.query('run'));
    return c.json({ jobId: record.jobId, runs, shown, timeline: timeline ?? null });
  });
  app.get('/api/totals', async (c) => c.json(totals(await data.listJobs())));

  app.post('/api/uploads', bodyLimit({ maxSize: MAX_UPLOAD_BYTES, onError: (c) => c.json({ error: `files up to ${MAX_UPLOAD_BYTES} bytes` }, 413) }), async (c) => {
    const upload = data.upload?.bind(data);
    if (!upload) return c.json({ error: 'this console cannot upload (no upload bucket)' }, 400);
    const type = c.req.header('content-type') ?? '';
    if (type.startsWith('multipart/form-data')) {
      // The form without script: every file, then back to the jobs.
      const body = await c.req.parseBody({ all: true });
      const files = [body.file].flat().filter((each): each is File => each instanceof File);
      for (const file of files) {
        const key = uploadKey(file.name);
        if (key) await upload(key, Buffer.from(await file.arrayBuffer()), file.type || 'application/octet-stream');
      }
      return c.redirect('/', 303);
    }
    const key = uploadKey(c.req.query('name') ?? '');
    if (!key) return c.json({ error: 'give the file name as ?name=' }, 400);
    const body = Buffer.from(await c.req.arrayBuffer());
    if (body.length === 0) return c.json({ error: 'empty file' }, 400);
    const result = await upload(key, body, type || 'application/octet-stream');
    return c.json(result, 201);
  });

  app.get('/api/events', (c) => {
    const since = c.req.query('since') ?? new Date().toISOString();
    return streamSSE(c, async (stream) => {
      let writing: Promise<unknown> = Promise.resolve();
      const send = (changes: JobChange[]) => {
        writing = writing.then(async () => {
          for (const change of changes) {
            const row = (await jobRow(change.job)).toString();
            await stream.writeSSE({ event: 'job', data: JSON.stringify({ ...change, row }) });
          }
        });
      };
      let closed: () => void = () => undefined;
      const aborted = new Promise<void>((resolveAbort) => {
        closed = resolveAbort;
      });
      const unsubscribe = await feed.subscribe(send);
      stream.onAbort(() => {
        unsubscribe();
        closed();
      });
      // What changed between the page's read and this subscription.
      const records = await data.listJobs();
      send(records.filter((record) => record.updatedAt >= since).map((record) => ({ job: summarize(record), total: records.length })));
      while (!stream.aborted && !stream.closed) {
        await Promise.race([stream.sleep(15_000), aborted]);
        if (stream.aborted || stream.closed) break;
        writing = writing.then(() => stream.writeSSE({ event: 'ping', data: '' }));
      }
      unsubscribe();
    });
  });

  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: 'not found' }, 404) : c.html(page({ title: 'Not found', where: data.where, body: notFoundBody() }), 404)));
  app.onError((error, c) => c.json({ error: error.message }, 500));
  return app;
}

function notFoundBody(): Html {
  return html`<h1>Not found</h1><p data-testid="not-found">Nothing here. <a href="/">All jobs</a></p>`;
}

/** Starts the console on loopback; resolves once it listens. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1';
  const feed = new JobFeed(() => options.data.listJobs(), options.pollMs ?? 1000);
  let hosts: string[] = [];
  const app = consoleApp(options.data, feed, () => hosts);
  const server = await new Promise<Server>((resolveListen, rejectListen) => {
    const created = serve({ fetch: app.fetch, port: options.port ?? DEFAULT_CONSOLE_PORT, hostname: host }) as Server;
    created.once('listening', () => resolveListen(created));
    created.once('error', (error: NodeJS.ErrnoException) =>
      rejectListen(error.code === 'EADDRINUSE' ? new Error(`port ${options.port} is in use: give another with --port (0 picks a free one)`) : error),
    );
  });
  const port = (server.address() as AddressInfo).port;
  hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (host !== '127.0.0.1' && host !== 'localhost') hosts.push(`${host}:${port}`);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === '127.0.0.1' ? '127.0.0.1' : host}:${port}/`,
    port,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        feed.stop();
        server.close(() => resolveClose());
        // Live pages hold their event streams open: closed with the server.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
