import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FUNCTION_KEYS, type FunctionKey, functionPackage } from '@imgflow/contract';
import { filesUnder, writeDeterministicZip } from './zip.js';

const run = promisify(execFile);

/** The Lambda functions: the workflow contract's steps, then its sweeper, one workspace package each. */
export const FUNCTIONS: readonly FunctionKey[] = FUNCTION_KEYS;
export type FunctionName = FunctionKey;

/** The workspace folder of a function's package (`@imgflow/fn-resize` → packages/fn-resize). */
function packageDir(root: string, name: FunctionName): string {
  return join(root, 'packages', functionPackage(name).replace('@imgflow/', ''));
}

/** Lambda's architecture names, and the npm/zip names for them. */
export const ARCHITECTURES = { arm64: 'arm64', x86_64: 'x64' } as const;
export type Architecture = keyof typeof ARCHITECTURES;

export interface Artifact {
  function: FunctionName;
  architecture: Architecture;
  zip: string;
  sha256: string;
  bytes: number;
  unzippedBytes: number;
  files: number;
}

export function artifactName(name: FunctionName, architecture: Architecture): string {
  return `${name}-${ARCHITECTURES[architecture]}.zip`;
}

/** Files pnpm deploy leaves that have no business in a Lambda. */
function skip(path: string): boolean {
  return (
    path === 'pnpm-lock.yaml' ||
    path === 'pnpm-workspace.yaml' ||
    path === 'package.json' ||
    // The package's own README (pnpm deploy copies it): documentation, not code.
    path === 'README.md' ||
    path.startsWith('dist/') ||
    path.startsWith('src/') ||
    path.startsWith('node_modules/.bin') ||
    path.startsWith('node_modules/.modules.yaml') ||
    path.startsWith('node_modules/.pnpm') ||
    /(^|\/)(CHANGELOG|HISTORY)(\.md)?$/i.test(path) ||
    /\.(d\.ts|d\.mts|d\.cts|map|ts|h)$/.test(path)
  );
}

/**
 * Builds one function's zip for one architecture: the bundled handler (index.mjs) plus a flat,
 * symlink-free node_modules holding only production dependencies (sharp and the libvips
 * binaries of that architecture), as `pnpm deploy` installs them from the lockfile.
 */
export async function packageFunction(root: string, name: FunctionName, architecture: Architecture, outDir: string): Promise<Artifact> {
  const cpu = ARCHITECTURES[architecture];
  const bundle = join(packageDir(root, name), 'dist', 'lambda', 'index.mjs');
  await stat(bundle).catch(() => {
    throw new Error(`${bundle} is missing: build first (pnpm build)`);
  });
  const stage = await mkdtemp(join(tmpdir(), `imgflow-${name}-${cpu}-`));
  try {
    await run(
      'pnpm',
      ['--filter', functionPackage(name), 'deploy', '--prod', `--cpu=${cpu}`, '--os=linux', '--libc=glibc', '--config.node-linker=hoisted', stage],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
    );
    const files = await filesUnder(stage, skip);
    const otherArch = cpu === 'arm64' ? 'x64' : 'arm64';
    const manifest = JSON.parse(await readFile(join(packageDir(root, name), 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    // Every module the bundle leaves external (tsup.lambda.ts) is a production dependency and must be in the zip.
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if (!files.some((file) => file.path === `node_modules/${dependency}/package.json`)) {
        throw new Error(`The ${name} ${architecture} bundle lacks its dependency ${dependency}`);
      }
    }
    const needsSharp = Boolean(manifest.dependencies?.sharp);
    if (needsSharp && !files.some((file) => file.path.startsWith(`node_modules/@img/sharp-linux-${cpu}/`))) {
      throw new Error(`The ${name} ${architecture} bundle lacks @img/sharp-linux-${cpu}`);
    }
    if (files.some((file) => file.path.includes(`/sharp-linux-${otherArch}/`) || file.path.includes(`/sharp-libvips-linux-${otherArch}/`))) {
      throw new Error(`The ${name} ${architecture} bundle holds ${otherArch} binaries`);
    }
    const entries = [
      ...files,
      { path: 'index.mjs', source: bundle },
      { path: 'package.json', source: Buffer.from(`${JSON.stringify({ name: `imgflow-${name}`, private: true, type: 'module' }, null, 2)}\n`) },
    ];
    await mkdir(outDir, { recursive: true });
    const zip = join(outDir, artifactName(name, architecture));
    await writeDeterministicZip(entries, zip);
    const bytes = await readFile(zip);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(`${zip}.sha256`, `${sha256}  ${artifactName(name, architecture)}\n`);
    let unzippedBytes = 0;
    for (const entry of entries) unzippedBytes += typeof entry.source === 'string' ? (await stat(entry.source)).size : entry.source.length;
    return { function: name, architecture, zip, sha256, bytes: bytes.length, unzippedBytes, files: entries.length };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
