import { describe, expect, it } from 'vitest';
import { jobIdFor, outputKey, outputStem, workKey } from '../../src/index.js';

describe('outputStem', () => {
  it.each([
    ['photos/Cat.JPG', 'photos/Cat'],
    ['cat.jpeg', 'cat'],
    ['a/b/c.tar.gz', 'a/b/c.tar'],
    ['noextension', 'noextension'],
  ])('keeps a clean key readable: %s → %s', (key, stem) => {
    expect(outputStem(key)).toBe(stem);
  });

  it.each([
    '../../etc/passwd.jpg',
    '/leading/slash.jpg',
    '//double//slashes.jpg',
    'a/./b/../c.jpg',
    'ünïcødé/ phötö .jpg',
    'ctl\u0001\u001b[31m.jpg',
    '....jpg',
    '.hidden/.x.jpg',
    '..',
    '',
    `${'deep/'.repeat(150)}file.jpg`,
    `${'x'.repeat(1020)}.jpg`,
  ])('cannot escape the output prefix or carry odd characters: %j', (key) => {
    const stem = outputStem(key);
    expect(stem).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._/-]*$/);
    expect(stem.split('/')).not.toContain('..');
    expect(stem.split('/')).not.toContain('.');
    expect(stem.split('/')).not.toContain('');
    expect(stem.split('/').every((segment) => !segment.startsWith('.'))).toBe(true);
    expect(Buffer.byteLength(outputKey('renditions/', stem, 'sm', { extension: 'webp' }))).toBeLessThanOrEqual(1024);
  });

  it('keeps apart keys that sanitise to the same text', () => {
    expect(outputStem('a b.jpg')).not.toBe(outputStem('a_b.jpg'));
    expect(outputStem('a b.jpg')).not.toBe(outputStem('a?b.jpg'));
    expect(outputStem('../x.jpg')).not.toBe(outputStem('x.jpg'));
  });

  it('builds output and work keys under their prefixes', () => {
    expect(outputKey('renditions/', 'photos/cat', 'sm', { extension: 'avif' })).toBe('renditions/photos/cat/sm.avif');
    expect(workKey('work/', 'abc', 'resize.bundle')).toBe('work/abc/resize.bundle');
  });
});

describe('jobIdFor', () => {
  const object = { bucket: 'uploads', key: 'a.jpg', etag: 'e1', size: 10 };

  it('is the same for the same object and a valid execution name', () => {
    expect(jobIdFor(object)).toBe(jobIdFor({ ...object }));
    expect(jobIdFor(object)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes with the content (ETag), the version, the key and the bucket', () => {
    const ids = new Set([
      jobIdFor(object),
      jobIdFor({ ...object, etag: 'e2' }),
      jobIdFor({ ...object, versionId: 'v2' }),
      jobIdFor({ ...object, key: 'b.jpg' }),
      jobIdFor({ ...object, bucket: 'other' }),
    ]);
    expect(ids.size).toBe(5);
  });
});
