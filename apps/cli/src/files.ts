import { readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { UsageError } from './errors.js';

/** One file to upload: where it is and the object key it gets. */
export interface InputFile {
  path: string;
  /** What the user recognises: the path relative to the working directory (absolute when outside it). */
  label: string;
  /** `uploads/<path relative to the folder argument>`, or `uploads/<base name>` for a file argument. */
  key: string;
  size: number;
}

export const UPLOAD_PREFIX = 'uploads/';

async function walk(folder: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    // Dot-files and dot-folders (.git, .DS_Store, .imgflow itself) are never images to process.
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) found.push(...(await walk(path)));
    else if (info?.isFile()) found.push(path);
  }
  return found;
}

function labelFor(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join(posix.sep);
}

/** `a/b.jpg` taken → `a/b-2.jpg`, `a/b-3.jpg`, … (the extension stays last: formats are sniffed by bytes, but people read it). */
function disambiguate(key: string, taken: Set<string>): string {
  if (!taken.has(key)) return key;
  const slash = key.lastIndexOf('/');
  const dot = key.lastIndexOf('.');
  const [stem, extension] = dot > slash + 1 ? [key.slice(0, dot), key.slice(dot)] : [key, ''];
  for (let n = 2; ; n += 1) {
    const candidate = `${stem}-${n}${extension}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Expands files and folders (recursively, skipping dot-files) into uploads. Every regular file
 * is taken: the pipeline rejects what is not an image by its bytes, not its name. Keys are
 * deterministic (same arguments → same keys), so a re-run is recognised as the same upload.
 */
export async function expandInputs(args: readonly string[], cwd = process.cwd()): Promise<InputFile[]> {
  if (args.length === 0) throw new UsageError('give at least one file or folder');
  const files: Array<Omit<InputFile, 'size'> & { size?: number }> = [];
  for (const arg of args) {
    const path = resolve(cwd, arg);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`no such file or folder: ${arg}`);
    if (info.isDirectory()) {
      const inside = await walk(path);
      for (const file of inside) {
        const rel = relative(path, file).split(sep).join(posix.sep);
        files.push({ path: file, label: labelFor(file, cwd), key: `${UPLOAD_PREFIX}${rel}` });
      }
    } else if (info.isFile()) {
      files.push({ path, label: labelFor(path, cwd), key: `${UPLOAD_PREFIX}${basename(path)}`, size: info.size });
    } else {
      throw new UsageError(`not a regular file or folder: ${arg}`);
    }
  }
  // The same file named twice (or found through two arguments) is uploaded once.
  const seenPaths = new Set<string>();
  const taken = new Set<string>();
  const result: InputFile[] = [];
  for (const file of files) {
    if (seenPaths.has(file.path)) continue;
    seenPaths.add(file.path);
    const key = disambiguate(file.key, taken);
    taken.add(key);
    result.push({ ...file, key, size: file.size ?? (await stat(file.path)).size });
  }
  if (result.length === 0) throw new UsageError(`no files found in ${args.join(', ')} (dot-files are skipped)`);
  return result;
}
