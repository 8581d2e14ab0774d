import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { expandInputs } from '../src/files.js';
import { tempDir } from './helpers.js';

let root: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  root = await tempDir();
  const p = (...parts: string[]) => join(root.path, ...parts);
  await mkdir(p('a', 'deep', 'er'), { recursive: true });
  await mkdir(p('a', '.git'), { recursive: true });
  await mkdir(p('b'), { recursive: true });
  await mkdir(p('empty', '.hidden'), { recursive: true });
  for (const file of ['a/one.jpg', 'a/deep/er/two.png', 'a/.DS_Store', 'a/.git/config', 'a/notes.txt', 'b/one.jpg', 'b/one-2.jpg', 'one.jpg', 'empty/.hidden/x.jpg']) {
    await writeFile(p(...file.split('/')), file);
  }
  await symlink(p('a', 'one.jpg'), p('b', 'link.jpg'));
});

afterAll(async () => {
  await root.remove();
});

describe('expandInputs', () => {
  it('walks folders recursively, skips dot-files, keys files relative to their folder argument', async () => {
    const files = await expandInputs(['a'], root.path);
    expect(files.map((file) => [file.key, file.label])).toEqual([
      ['uploads/deep/er/two.png', 'a/deep/er/two.png'],
      ['uploads/notes.txt', 'a/notes.txt'],
      ['uploads/one.jpg', 'a/one.jpg'],
    ]);
    expect(files.find((file) => file.key === 'uploads/one.jpg')?.size).toBe('a/one.jpg'.length);
  });

  it('keeps keys apart when two arguments yield the same key, deterministically', async () => {
    const keys = async () => (await expandInputs(['a', 'b', 'one.jpg'], root.path)).map((file) => `${file.label} → ${file.key}`);
    const first = await keys();
    expect(first).toEqual([
      'a/deep/er/two.png → uploads/deep/er/two.png',
      'a/notes.txt → uploads/notes.txt',
      'a/one.jpg → uploads/one.jpg',
      'b/link.jpg → uploads/link.jpg',
      'b/one-2.jpg → uploads/one-2.jpg',
      'b/one.jpg → uploads/one-3.jpg',
      'one.jpg → uploads/one-4.jpg',
    ]);
    expect(await keys()).toEqual(first);
    expect(new Set(first.map((line) => line.split(' → ')[1])).size).toBe(first.length);
  });

  it('uploads a file named twice once', async () => {
    const files = await expandInputs(['one.jpg', './one.jpg'], root.path);
    expect(files.map((file) => file.key)).toEqual(['uploads/one.jpg']);
  });

  it('refuses a missing path and a folder with nothing to upload', async () => {
    await expect(expandInputs(['missing'], root.path)).rejects.toThrow(new UsageError('no such file or folder: missing'));
    await expect(expandInputs(['empty'], root.path)).rejects.toThrow('no files found in empty (dot-files are skipped)');
    await expect(expandInputs([], root.path)).rejects.toThrow('give at least one file or folder');
  });
});
