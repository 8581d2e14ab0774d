import { createWriteStream } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';

/** One file for the zip: its path inside the archive and where its bytes come from. */
export interface ZipEntry {
  path: string;
  source: string | Buffer;
  executable?: boolean;
}

/**
 * Lists a folder's files, refusing symlinks: Lambda does not follow them inside a zip, so a
 * linked node_modules would deploy as missing files.
 */
export async function filesUnder(root: string, skip: (path: string) => boolean = () => false): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  const walk = async (dir: string) => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const path = relative(root, full).split(sep).join('/');
      if (skip(path)) continue;
      const stats = await lstat(full);
      if (stats.isSymbolicLink()) throw new Error(`Refusing to package a symlink: ${path}`);
      if (stats.isDirectory()) await walk(full);
      else if (stats.isFile()) entries.push({ path, source: full, executable: (stats.mode & 0o111) !== 0 });
    }
  };
  await walk(root);
  return entries;
}

/** A fixed local date: yazl writes DOS (local-time) stamps, so the same date gives the same bytes in every time zone. */
const FIXED_DATE = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Writes a byte-identical zip for the same entries: sorted paths, one fixed timestamp with no
 * extended (UTC) timestamp field, fixed permissions.
 */
export async function writeDeterministicZip(entries: readonly ZipEntry[], output: string): Promise<void> {
  const zip = new ZipFile();
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const entry of sorted) {
    const data = typeof entry.source === 'string' ? await readFile(entry.source) : entry.source;
    zip.addBuffer(data, entry.path, { mtime: FIXED_DATE, mode: entry.executable ? 0o100755 : 0o100644, forceDosTimestamp: true, compress: true });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(output));
}
