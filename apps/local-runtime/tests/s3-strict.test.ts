import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type S3NotificationRecord, Storage, createClients, decodeEventKey, destroyClients } from '@imgflow/pipeline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulators, FaultInjector, LOCAL_CREDENTIALS, startEmulators } from '../src/index.js';

// The S3 stand-in against the real SDK v3 client: each behaviour S3 has and s3rver 3.7.1 lacks.
const PLAIN = 'plain';
const VERSIONED = 'versioned';

let emulators: Emulators;
let s3: S3Client;
let clients: ReturnType<typeof createClients>;
const records: S3NotificationRecord[] = [];

async function text(response: { Body?: { transformToString(): Promise<string> } }): Promise<string> {
  return (await response.Body?.transformToString()) ?? '';
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  emulators = await startEmulators({ buckets: [PLAIN, VERSIONED] });
  clients = createClients({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints, maxAttempts: 1 });
  s3 = clients.s3;
  await s3.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }));
  emulators.s3rver?.on('event', (event: { Records: S3NotificationRecord[] }) => records.push(...event.Records));
});

afterAll(async () => {
  destroyClients(clients);
  await emulators.stop();
});

beforeEach(() => {
  records.length = 0;
});

describe('If-Match on reads', () => {
  it('answers 412 to a GET or HEAD whose If-Match names another ETag, and the object to the right one', async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'if-match.jpg', Body: 'one' }));
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'if-match.jpg', IfMatch: ETag })))).toBe('one');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'if-match.jpg', IfMatch: '"0123"' })))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket: PLAIN, Key: 'if-match.jpg', IfMatch: '"0123"' })))).status).toBe(412);
    // A missing object is 404 whatever the condition.
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'absent.jpg', IfMatch: ETag })))).toEqual({ name: 'NoSuchKey', status: 404 });
  });

  it('Storage.get of an object overwritten since its event is SourceMissingError naming the overwrite', async () => {
    const storage = new Storage(s3);
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'overwritten.jpg', Body: 'first' }));
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'overwritten.jpg', Body: 'second' }));
    await expect(storage.get({ bucket: PLAIN, key: 'overwritten.jpg' }, (ETag ?? '').replace(/"/g, ''))).rejects.toMatchObject({
      name: 'SourceMissingError',
      message: expect.stringContaining('was overwritten after its event was sent'),
    });
  });
});

describe('bucket versioning', () => {
  it('reports the status it was given, and none for a bucket never versioned', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: VERSIONED }))).Status).toBe('Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: PLAIN }))).Status).toBeUndefined();
  });

  it('gives every write a version id, serves each version, and puts the id into the event', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg', Body: 'one' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg', Body: 'two' }));
    expect(first.VersionId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(second.VersionId).not.toBe(first.VersionId);
    const current = await s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg' }));
    expect(current.VersionId).toBe(second.VersionId);
    expect(await text(current)).toBe('two');
    const older = await s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg', VersionId: first.VersionId, IfMatch: first.ETag }));
    expect(await text(older)).toBe('one');
    expect(older).toMatchObject({ VersionId: first.VersionId, ETag: first.ETag });
    const head = await s3.send(new HeadObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg', VersionId: first.VersionId }));
    expect(head).toMatchObject({ ContentLength: 3, ETag: first.ETag });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg', VersionId: 'no-such-version' })))).toEqual({ name: 'NoSuchVersion', status: 404 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'photo.jpg', VersionId: first.VersionId, IfMatch: second.ETag })))).toMatchObject({ status: 412 });
    expect(records.map((record) => record.s3.object.versionId)).toEqual([first.VersionId, second.VersionId]);
  });

  it('keeps older versions readable after a delete (a delete marker), and unversioned buckets have no version ids', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'deleted.jpg', Body: 'kept' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: 'deleted.jpg' }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'deleted.jpg' })))).toMatchObject({ status: 404 });
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'deleted.jpg', VersionId: put.VersionId })))).toBe('kept');
    expect(records.map((record) => record.eventName)).toEqual(['ObjectCreated:Put', 'ObjectRemoved:DeleteMarkerCreated']);
    const plain = await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'plain.jpg', Body: 'x' }));
    expect(plain.VersionId).toBeUndefined();
  });

  it('copies an older version (CopySource ?versionId=), as S3 does', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'a b+c.jpg', Body: 'old', ContentType: 'image/jpeg' }));
    await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'a b+c.jpg', Body: 'new' }));
    const storage = new Storage(s3);
    await storage.copy({ bucket: VERSIONED, key: 'a b+c.jpg', versionId: first.VersionId as string }, { bucket: PLAIN, key: 'copied/old.jpg' });
    const copied = await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'copied/old.jpg' }));
    expect(await text(copied)).toBe('old');
    expect(copied.ContentType).toBe('image/jpeg');
    // With the upload's ETag, Storage copies the current object only while it is that content.
    await expect(
      storage.copy({ bucket: VERSIONED, key: 'a b+c.jpg', versionId: first.VersionId as string, etag: (first.ETag ?? '').replace(/"/g, '') }, { bucket: PLAIN, key: 'copied/x.jpg' }),
    ).rejects.toMatchObject({ name: 'SourceMissingError', message: expect.stringContaining('was overwritten') });
  });
});

describe('CopyObject', () => {
  it('finds source keys with +, %, ?, =, spaces and unicode (s3rver read %2B as a literal)', async () => {
    const storage = new Storage(s3);
    for (const key of ['c++ plus+sign.jpg', 'per%cent%41.jpg', 'what?.jpg', 'a=b&c.jpg', 'ünï cødé/phötö.jpg', 'x%2By.jpg']) {
      await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: key }));
      await storage.copy({ bucket: PLAIN, key }, { bucket: PLAIN, key: `copies/${key}` });
      expect(await text(await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: `copies/${key}` }))), key).toBe(key);
    }
  });

  it('copies the source tags by default, none with TaggingDirective REPLACE (what Storage.copy sends)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'tagged.jpg', Body: 't', Tagging: 'owner=alice&project=a b' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: PLAIN, Key: 'tagged.jpg' }))).TagSet).toEqual([
      { Key: 'owner', Value: 'alice' },
      { Key: 'project', Value: 'a b' },
    ]);
    await s3.send(new CopyObjectCommand({ Bucket: PLAIN, Key: 'tag-copy.jpg', CopySource: `${PLAIN}/tagged.jpg` }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: PLAIN, Key: 'tag-copy.jpg' }))).TagSet).toHaveLength(2);
    await new Storage(s3).copy({ bucket: PLAIN, key: 'tagged.jpg' }, { bucket: PLAIN, key: 'tag-replaced.jpg' });
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: PLAIN, Key: 'tag-replaced.jpg' }))).TagSet).toEqual([]);
    // A later PUT without tags leaves none behind.
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'tagged.jpg', Body: 'u' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: PLAIN, Key: 'tagged.jpg' }))).TagSet).toEqual([]);
  });

  it('asks the authorizer for the tagging permissions a tag-copying CopyObject needs', async () => {
    const strict = emulators.strictS3;
    if (!strict) throw new Error('in-process emulators have a strict layer');
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'labelled.jpg', Body: 'l', Tagging: 'a=b' }));
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'unlabelled.jpg', Body: 'u' }));
    const asked: string[] = [];
    strict.authorize = ({ action }) => {
      asked.push(action);
      return !action.endsWith('Tagging');
    };
    try {
      expect(await failure(s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'other.jpg', Body: 'o', Tagging: 'a=b' })))).toEqual({ name: 'AccessDenied', status: 403 });
      asked.length = 0;
      expect(await failure(s3.send(new CopyObjectCommand({ Bucket: PLAIN, Key: 'out.jpg', CopySource: `${PLAIN}/labelled.jpg` })))).toEqual({ name: 'AccessDenied', status: 403 });
      expect(asked).toEqual(['s3:GetObject', 's3:PutObject', 's3:GetObjectTagging']);
      // REPLACE without tags needs no tagging permission; nor does copying an untagged source.
      await new Storage(s3).copy({ bucket: PLAIN, key: 'labelled.jpg' }, { bucket: PLAIN, key: 'out.jpg' });
      await s3.send(new CopyObjectCommand({ Bucket: PLAIN, Key: 'out2.jpg', CopySource: `${PLAIN}/unlabelled.jpg` }));
    } finally {
      strict.authorize = undefined;
    }
  });

  it('answers 412 to x-amz-copy-source-if-match with another ETag', async () => {
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'source.jpg', Body: 's' }));
    await expect(new Storage(s3).copy({ bucket: PLAIN, key: 'source.jpg', etag: '0123' }, { bucket: PLAIN, key: 'never.jpg' })).rejects.toMatchObject({
      name: 'SourceMissingError',
    });
  });
});

describe('DeleteObjects', () => {
  it('reports injected per-key failures in Errors[] of a 200, deletes the rest, reports missing keys as deleted', async () => {
    for (const key of ['del/a.webp', 'del/flaky.webp', 'del/007']) await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: key }));
    const faults = new FaultInjector();
    const faulty = createClients({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints, maxAttempts: 1 });
    faults.attachTo(faulty);
    faults.failDeleteKeys({ times: 1, keys: /flaky/, code: 'InternalError', message: 'We encountered an internal error. Please try again.' });
    try {
      const response = await faulty.s3.send(
        new DeleteObjectsCommand({ Bucket: PLAIN, Delete: { Objects: ['del/a.webp', 'del/flaky.webp', 'del/007', 'del/missing'].map((Key) => ({ Key })) } }),
      );
      expect(response.$metadata.httpStatusCode).toBe(200);
      expect(response.Errors).toEqual([{ Key: 'del/flaky.webp', Code: 'InternalError', Message: 'We encountered an internal error. Please try again.' }]);
      expect(response.Deleted?.map((deleted) => deleted.Key)).toEqual(['del/a.webp', 'del/007', 'del/missing']);
      expect(faults.fired.get('s3:DeleteObjects:Errors')).toBe(1);
      expect(await text(await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'del/flaky.webp' })))).toBe('del/flaky.webp');
      expect(await failure(s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'del/007' })))).toMatchObject({ status: 404 });
      expect(records.filter((record) => record.eventName === 'ObjectRemoved:Delete').map((record) => decodeEventKey(record.s3.object.key))).toEqual(['del/a.webp', 'del/007']);
    } finally {
      destroyClients(faulty);
    }
  });

  it('Storage.deleteKeys raises per-key failures: transient ones as StorageUnavailableError, a denial as AccessDeniedError', async () => {
    const faults = new FaultInjector();
    const faulty = createClients({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints, maxAttempts: 1 });
    faults.attachTo(faulty);
    const storage = new Storage(faulty.s3);
    try {
      await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'work/j/resize.bundle', Body: 'b' }));
      faults.failDeleteKeys({ times: 1, keys: 'work/', code: 'SlowDown', message: 'Please reduce your request rate.' });
      await expect(storage.deleteKeys(PLAIN, ['work/j/resize.bundle', 'work/j/filter.bundle'])).rejects.toMatchObject({
        name: 'StorageUnavailableError',
        message: expect.stringContaining('S3 did not delete 2 of 2 keys'),
      });
      faults.failDeleteKeys({ times: 1, keys: 'work/j/resize', code: 'AccessDenied', message: 'Access Denied' });
      await expect(storage.deleteKeys(PLAIN, ['work/j/resize.bundle'])).rejects.toMatchObject({ name: 'AccessDeniedError' });
      await expect(storage.deleteKeys(PLAIN, ['work/j/resize.bundle', 'work/j/filter.bundle'])).resolves.toBe(2);
    } finally {
      destroyClients(faulty);
    }
  });
});

describe('event records', () => {
  it('carry the key URL-encoded as AWS writes it, and the version id', async () => {
    const key = 'photos/c++ plus+sign ünï=1%.jpg';
    const put = await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: 'x' }));
    const [record] = records;
    expect(record?.s3.object.key).toBe('photos/c%2B%2B+plus%2Bsign+%C3%BCn%C3%AF%3D1%25.jpg');
    expect(decodeEventKey(record?.s3.object.key ?? '')).toBe(key);
    expect(record?.s3.object).toMatchObject({ versionId: put.VersionId, eTag: (put.ETag ?? '').replace(/"/g, ''), size: 1 });
    expect(record?.s3.bucket).toMatchObject({ name: VERSIONED, arn: `arn:aws:s3:::${VERSIONED}` });
  });

  it('a listener that throws fails neither the upload nor the other listeners', async () => {
    const throwing = () => {
      throw new Error('listener bug');
    };
    emulators.s3rver?.prependListener('event', throwing);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const put = await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'per%cent%41.jpg', Body: 'x' }));
      expect(put.$metadata.httpStatusCode).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
      expect(emulators.strictS3?.listenerErrors.at(-1)?.message).toBe('listener bug');
      expect(records.map((record) => record.s3.object.key)).toEqual(['per%25cent%2541.jpg']);
    } finally {
      emulators.s3rver?.off('event', throwing);
      process.off('warning', onWarning);
    }
  });
});

describe('the payload hash a PUT signs', () => {
  const sha256 = (body: string) => createHash('sha256').update(body).digest('hex');

  it('refuses a body that does not hash to its x-amz-content-sha256, as S3 does (400 XAmzContentSHA256Mismatch), and stores nothing', async () => {
    const storage = new Storage(s3);
    const location = { bucket: PLAIN, key: 'hash/mismatch.jpg' };
    await expect(storage.put(location, Buffer.from('the body'), 'image/jpeg', undefined, { sha256: sha256('another body') })).rejects.toMatchObject({
      cause: { name: 'XAmzContentSHA256Mismatch', $metadata: { httpStatusCode: 400 } },
    });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: PLAIN, Key: location.key })))).toMatchObject({ status: 404 });
  });

  it('stores a body whose hash the caller gave, and one sent UNSIGNED-PAYLOAD', async () => {
    const storage = new Storage(s3);
    await storage.put({ bucket: PLAIN, key: 'hash/given.jpg' }, Buffer.from('given'), 'image/jpeg', undefined, { sha256: sha256('given') });
    await storage.put({ bucket: PLAIN, key: 'hash/unsigned.jpg' }, Buffer.from('unsigned'), 'image/jpeg', undefined, 'unsigned');
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'hash/given.jpg' })))).toBe('given');
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'hash/unsigned.jpg' })))).toBe('unsigned');
  });
});
