/// <reference lib="dom" />
// The console in a real browser: Debian's Chromium driven by playwright-core, over a real local
// run. Screenshots of every view go to apps/cli/test-artifacts/console/.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photoLike, writeSamples } from '@imgflow/samples';
import { type ConsoleHandle, startConsole } from '../src/commands/console.js';
import type { ExecutionHistory } from '../src/console/history.js';
import { runImages } from '../src/commands/run.js';
import { captureIo, tempDir } from './helpers.js';

/** Debian's `chromium` package; `scripts/ensure-chromium.sh` (run by `make test`) installs it. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/console/', import.meta.url));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let root: { path: string; remove: () => Promise<void> };
let data: string;
let console_: ConsoleHandle;
let browser: Browser;
let context: BrowserContext;
/** Errors the pages threw or logged (a blocked script or a failed request shows up here). */
const pageErrors: string[] = [];

async function open(path: string, viewport = DESKTOP): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${path}: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) pageErrors.push(`${path}: ${response.status()} ${response.url()}`);
  });
  await page.goto(new URL(path, console_.server.url).href, { waitUntil: 'load' });
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** The job id of the row whose key is `key`, read from the page. */
async function jobIdOf(page: Page, key: string): Promise<string> {
  const id = await page.locator(`[data-testid="job-row"][data-key="${key}"]`).getAttribute('data-job-id');
  if (!id) throw new Error(`no row for ${key}`);
  return id;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}, and the console's browser tests need it. Run scripts/ensure-chromium.sh ` +
        '(make test runs it: as root it installs Debian\'s chromium package), or: sudo apt-get update && sudo apt-get install -y chromium',
    );
  }
  root = await tempDir();
  const images = join(root.path, 'images');
  data = join(root.path, 'state');
  const recipe = join(root.path, 'recipe.json');
  // Photo-like samples, small so the run is quick, in three formats; one file that is not an image.
  await writeSamples(images, [
    { name: 'harbour.jpg', width: 900, height: 600, format: 'jpeg' },
    { name: 'portrait.jpg', width: 480, height: 720, format: 'jpeg' },
    { name: 'poster.png', width: 640, height: 480, format: 'png' },
    { name: 'sunset.webp', width: 800, height: 450, format: 'webp' },
  ]);
  await writeFile(join(images, 'notes.jpg'), 'this is text, not a JPEG\n');
  await writeFile(recipe, JSON.stringify({ renditions: [{ name: 'thumb', width: 160 }, { name: 'small', width: 320 }], formats: ['webp', 'jpeg'] }));
  const run = await runImages({ inputs: [images], out: join(root.path, 'out'), data, recipe, concurrency: '2', cwd: root.path }, captureIo());
  expect(run.results.map((result) => result.status).sort()).toEqual(['REJECTED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  console_ = await startConsole({ data, port: 0, recipe, cwd: root.path, pollMs: 100 }, captureIo());
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: DESKTOP });
});

afterAll(async () => {
  await browser?.close();
  await console_?.stop();
  await root?.remove();
});

describe('imgflow console in Chromium', () => {
  it('the job list shows every image with its status, and the rejected file its reason code', async () => {
    const page = await open('/');
    const rows = page.locator('[data-testid="job-row"]');
    expect(await rows.count()).toBe(5);
    const statuses: Record<string, string> = {};
    for (const row of await rows.all()) {
      statuses[(await row.getAttribute('data-key')) ?? ''] = (await row.locator('[data-testid="job-status"]').textContent())?.trim() ?? '';
    }
    expect(statuses).toEqual({
      'uploads/harbour.jpg': 'SUCCEEDED',
      'uploads/portrait.jpg': 'SUCCEEDED',
      'uploads/poster.png': 'SUCCEEDED',
      'uploads/sunset.webp': 'SUCCEEDED',
      'uploads/notes.jpg': 'REJECTED',
    });
    const rejected = page.locator('[data-testid="job-row"][data-key="uploads/notes.jpg"]');
    expect((await rejected.locator('[data-testid="job-reason"]').textContent())?.trim()).toBe('UNKNOWN_FORMAT');
    // Every thumbnail is a picture the browser decoded.
    const thumbnails = await page.locator('[data-testid="job-thumbnail"]').evaluateAll((images) => images.map((image) => (image as HTMLImageElement).naturalWidth));
    expect(thumbnails).toHaveLength(4);
    for (const width of thumbnails) expect(width).toBeGreaterThan(0);
    await screenshot(page, 'jobs');

    // The rejected job's own page says why.
    await page.goto(new URL(`/jobs/${await jobIdOf(page, 'uploads/notes.jpg')}`, console_.server.url).href);
    expect(await page.locator('[data-testid="job-reason"]').textContent()).toContain('UNKNOWN_FORMAT');
    await screenshot(page, 'job-rejected');
    await page.close();
  });

  it("a job page's pictures load: the original, every rendition, the placeholder", async () => {
    const list = await open('/');
    const jobId = await jobIdOf(list, 'uploads/harbour.jpg');
    await list.close();
    const page = await open(`/jobs/${jobId}`);
    const widths = await page.locator('[data-testid="rendition-image"]').evaluateAll((images) => images.map((image) => (image as HTMLImageElement).naturalWidth));
    expect(widths.sort((a, b) => a - b)).toEqual([160, 160, 320, 320]);
    for (const testid of ['original-image', 'placeholder-image']) {
      expect(await page.locator(`[data-testid="${testid}"]`).evaluate((image) => (image as HTMLImageElement).naturalWidth), testid).toBeGreaterThan(0);
    }
    // Every picture has alt text.
    const alts = await page.locator('main img').evaluateAll((images) => images.map((image) => image.getAttribute('alt') ?? ''));
    for (const alt of alts) expect(alt.length).toBeGreaterThan(0);
    await screenshot(page, 'job');

    // Compare: two pictures side by side.
    const buttons = page.locator('[data-testid="compare-button"]');
    await buttons.nth(0).click();
    await buttons.nth(1).click();
    const panes = page.locator('[data-testid="compare-pane"] img');
    expect(await panes.count()).toBe(2);
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="compare-pane"] img')).every((image) => image.complete && image.naturalWidth > 0));
    await page.locator('[data-testid="compare"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'compare');
    await page.close();
  });

  it('the timeline has one bar per state the execution entered', async () => {
    const list = await open('/');
    const jobId = await jobIdOf(list, 'uploads/harbour.jpg');
    await list.close();
    // The states come from the execution history the run recorded, not from the console's API.
    const histories = JSON.parse(await readFile(join(data, 'executions', `${jobId}.json`), 'utf8')) as ExecutionHistory[];
    const history = histories.at(-1) as ExecutionHistory;
    const entered = new Set(history.events.filter((event) => event.type === 'entered').map((event) => event.state));
    for (const state of ['ValidateImage', 'ResizeImage', 'ApplyFilters', 'OptimizeImage', 'NotifySuccess']) expect(entered).toContain(state);
    const page = await open(`/jobs/${jobId}/timeline`);
    const bars = await page.locator('[data-testid="timeline-bar"]').evaluateAll((groups) => groups.map((group) => group.getAttribute('data-state') ?? ''));
    expect(bars).toHaveLength(entered.size);
    expect(new Set(bars)).toEqual(entered);
    // Each bar is drawn: a rectangle with a width on the page.
    const drawn = await page.locator('[data-testid="timeline-bar"] rect').evaluateAll((rects) => rects.map((rect) => rect.getBoundingClientRect().width));
    for (const width of drawn) expect(width).toBeGreaterThan(0);
    await screenshot(page, 'timeline');
    await page.close();
  });

  it('files dropped on the upload page end SUCCEEDED there, without a reload', async () => {
    const page = await open('/upload');
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const files = [
      { name: 'dropped-lake.jpg', type: 'image/jpeg', base64: (await photoLike({ width: 720, height: 480, seed: 11 })).toString('base64') },
      { name: 'dropped-field.png', type: 'image/png', base64: (await photoLike({ width: 480, height: 480, seed: 12, format: 'png' })).toString('base64') },
    ];
    // A real drop event: a DataTransfer holding Files built in the page from the bytes.
    await page.locator('[data-testid="dropzone"]').evaluate((zone, dropped) => {
      const transfer = new DataTransfer();
      for (const file of dropped) {
        const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, { type: file.type }));
      }
      zone.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: transfer }));
      zone.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: transfer }));
      zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }, files);
    const items = page.locator('[data-testid="upload-item"]');
    await page.waitForFunction(
      (count) => {
        const statuses = Array.from(document.querySelectorAll('[data-testid="upload-item"] [data-testid="upload-status"]'), (status) => status.textContent);
        return statuses.length === count && statuses.every((status) => status === 'SUCCEEDED');
      },
      files.length,
      { timeout: 45_000 },
    );
    expect(await items.count()).toBe(2);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // Each item links to its job.
    for (const item of await items.all()) expect(await item.locator('a').getAttribute('href')).toMatch(/^\/jobs\/[0-9a-f]{32}$/);
    await screenshot(page, 'upload');
    await page.close();
  });

  it('the totals page draws its charts', async () => {
    const page = await open('/totals');
    const charts = await page.locator('[data-testid^="chart-"]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-testid')));
    expect(charts).toContain('chart-savings');
    for (const box of await page.locator('[data-testid^="chart-"]').evaluateAll((nodes) => nodes.map((node) => node.getBoundingClientRect().width))) {
      expect(box).toBeGreaterThan(0);
    }
    await screenshot(page, 'totals');
    await page.close();
  });

  it('the keyboard reaches the section links and a job link with Tab', async () => {
    const page = await open('/');
    const reached: string[] = [];
    for (let press = 0; press < 30 && !reached.includes('job-link'); press += 1) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? ''));
    }
    for (const target of ['nav-jobs', 'nav-upload', 'nav-totals', 'job-link']) expect(reached, reached.join(' → ')).toContain(target);
    expect(reached.indexOf('nav-totals')).toBeLessThan(reached.indexOf('job-link'));
    // Enter on a focused job link opens the job.
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/jobs\/[0-9a-f]{32}$/);
    await page.close();
  });

  it('the job list is readable at phone width (390 px): nothing wider than the screen', async () => {
    const page = await open('/', PHONE);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(PHONE.width);
    expect(await page.locator('[data-testid="job-row"]').first().isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'jobs-phone.png'), fullPage: true });
    await page.close();
  });

  it('no page threw or logged an error', () => {
    expect(pageErrors).toEqual([]);
  });
});
