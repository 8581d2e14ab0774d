import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { type Artifact, FUNCTIONS, artifactName, packageFunction } from '../src/index.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Entry {
  path: string;
  mode: number;
  data: Buffer;
}

function readZip(path: string): Promise<Entry[]> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(path, { lazyEntries: true }, (openError, zip) => {
      if (openError || !zip) return reject(openError);
      const entries: Entry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolvePromise(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.push({ path: entry.fileName, mode: entry.externalFileAttributes >>> 16, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

describe('Lambda artifacts', () => {
  let out: string;
  let arm: Artifact;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'imgflow-artifacts-'));
    arm = await packageFunction(root, 'resize', 'arm64', out);
  });

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('names the zip <function>-<arch>.zip and writes its sha256 beside it', async () => {
    expect(artifactName('notify', 'arm64')).toBe('notify-arm64.zip');
    expect(artifactName('optimize', 'x86_64')).toBe('optimize-x64.zip');
    expect(arm.zip).toBe(join(out, 'resize-arm64.zip'));
    expect(await readFile(`${arm.zip}.sha256`, 'utf8')).toBe(`${arm.sha256}  resize-arm64.zip\n`);
  });

  it('holds the bundled handler, an ESM package.json and the arm64 sharp binaries only, with no symlinks', async () => {
    const entries = await readZip(arm.zip);
    const paths = entries.map((entry) => entry.path);
    expect(paths).toContain('index.mjs');
    expect(JSON.parse(entries.find((entry) => entry.path === 'package.json')?.data.toString() ?? '{}')).toMatchObject({ type: 'module' });
    expect(paths.some((path) => /^node_modules\/@img\/sharp-linux-arm64\/lib\/sharp-linux-arm64[\w.-]*\.node$/.test(path))).toBe(true);
    expect(paths.some((path) => path.startsWith('node_modules/@img/sharp-libvips-linux-arm64/lib/'))).toBe(true);
    expect(paths.filter((path) => /x64|x86_64|darwin|win32|musl/.test(path))).toEqual([]);
    expect(entries.filter((entry) => (entry.mode & 0o170000) === 0o120000)).toEqual([]);
    expect(paths.filter((path) => path.startsWith('node_modules/@imgflow/') || path.startsWith('node_modules/@aws-sdk/'))).toEqual([]);
    expect(arm.unzippedBytes).toBeLessThan(50 * 1024 * 1024);
  });

  it('ships every module the bundle imports: each bare import of index.mjs resolves inside the zip', async () => {
    const entries = await readZip(arm.zip);
    const bundle = entries.find((entry) => entry.path === 'index.mjs')?.data.toString() ?? '';
    const imports = /\bfrom\s*["']([^"'./][^"']*)["']|\b(?:import|require)\(\s*["']([^"'./][^"']*)["']\s*\)/g;
    const specifiers = new Set([...bundle.matchAll(imports)].map((match) => match[1] ?? match[2] ?? ''));
    // The SDK tries these for SigV4a only (multi-region access points), inside a try/catch; imgflow never signs SigV4a.
    const optional = ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'];
    const external = [...specifiers].filter((specifier) => !specifier.startsWith('node:') && !builtinModules.includes(specifier) && !optional.includes(specifier));
    // sharp (native) and heic-decode (libheif-js, LGPL: a replaceable module) stay outside the bundle.
    expect(external.sort()).toEqual(['heic-decode', 'sharp']);
    for (const module of ['heic-decode', 'libheif-js', 'sharp']) {
      expect(entries.some((entry) => entry.path === `node_modules/${module}/package.json`), module).toBe(true);
    }
    // The LGPL's terms travel with libheif-js (README, "HEIC input").
    expect(entries.some((entry) => entry.path === 'node_modules/libheif-js/LICENSE')).toBe(true);
  });

  it('builds byte-identical zips twice, whatever the time zone', async () => {
    const again = join(out, 'again');
    await mkdir(again);
    await run('node', ['-e', `import('${join(root, 'apps/release/dist/index.js')}').then(m => m.packageFunction(${JSON.stringify(root)}, 'resize', 'arm64', ${JSON.stringify(again)}))`], {
      env: { ...process.env, TZ: 'Pacific/Kiritimati' },
    });
    expect((await readFile(join(again, 'resize-arm64.zip'))).equals(await readFile(arm.zip))).toBe(true);
  });

  it('ships the notify function without sharp: it never loads an image library', async () => {
    const notify = await packageFunction(root, 'notify', 'arm64', out);
    const paths = (await readZip(notify.zip)).map((entry) => entry.path).sort();
    expect(paths).toEqual(['index.mjs', 'package.json']);
    expect(notify.bytes).toBeLessThan(1024 * 1024);
  });

  it('packages the sweeper from the contract (sweep-<arch>.zip), without sharp', async () => {
    expect(FUNCTIONS).toEqual(['validate', 'resize', 'filter', 'optimize', 'notify', 'sweep']);
    const sweep = await packageFunction(root, 'sweep', 'x86_64', out);
    expect(sweep.zip).toBe(join(out, 'sweep-x64.zip'));
    expect((await readZip(sweep.zip)).map((entry) => entry.path).sort()).toEqual(['index.mjs', 'package.json']);
  });

  it('loads on Node from the zip alone: an x86_64 handler answers with its named configuration error', async () => {
    const x64 = await packageFunction(root, 'validate', 'x86_64', out);
    const dir = join(out, 'unzipped');
    for (const entry of await readZip(x64.zip)) {
      await mkdir(dirname(join(dir, entry.path)), { recursive: true });
      await writeFile(join(dir, entry.path), entry.data);
    }
    const script = `import('./index.mjs').then((m) => m.handler({})).then(() => console.log('no error'), (e) => console.log(e.name + ' | ' + e.message))`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('IMGFLOW_')));
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: dir, env });
    expect(stdout.trim()).toMatch(/^ConfigurationError \| INVALID_CONFIGURATION: Environment variable IMGFLOW_OUTPUT_BUCKET is missing/);
    // The HEIC decoder loads from the zip's own node_modules and decodes (only on the first HEIC in a real run).
    const heic = join(root, 'packages/image-core/tests/fixtures/heic/upright.heic');
    const decode = `require('heic-decode')({ buffer: require('node:fs').readFileSync(${JSON.stringify(heic)}) }).then((p) => console.log(p.width + 'x' + p.height))`;
    const decoded = await run('node', ['--input-type=commonjs', '-e', decode], { cwd: dir, env });
    expect(decoded.stdout.trim()).toBe('96x64');
  });
});
