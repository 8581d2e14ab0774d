import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type CopyObjectCommand, type GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, Storage, StorageUnavailableError, copySource, deleteFailureError } from '../../src/index.js';
import { FAKE_UPLOAD_BUCKET, awsError, fakeDeps } from '../../src/testing.js';

/** A client that records the commands Storage sends and answers from `answer`. */
function recording(answer: (command: unknown) => unknown = () => ({})) {
  const sent: unknown[] = [];
  const send = async (command: unknown) => {
    sent.push(command);
    return answer(command);
  };
  const s3 = { send } as unknown as S3Client;
  return { storage: new Storage(s3), sent };
}

describe('Storage.deleteKeys', () => {
  it('raises the keys DeleteObjects reports in Errors[] of its 200: transient codes as StorageUnavailableError', async () => {
    const deps = fakeDeps();
    const bucket = deps.config.outputBucket;
    for (const key of ['work/j/resize.bundle', 'work/j/filter.bundle']) deps.s3.seed(bucket, key, Buffer.from(key));
    deps.s3.failDeleteKeys((key) => key.endsWith('resize.bundle'), 'InternalError', 1, 'We encountered an internal error. Please try again.');
    const error = await deps.storage.deleteKeys(bucket, ['work/j/resize.bundle', 'work/j/filter.bundle']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toBe(
      `S3 did not delete 1 of 2 keys in s3://${bucket}: work/j/resize.bundle (InternalError: We encountered an internal error. Please try again.)`,
    );
    // The other key is gone, the failed one is still there; a retry finishes the job.
    expect(deps.s3.keys(bucket)).toEqual(['work/j/resize.bundle']);
    await expect(deps.storage.deleteKeys(bucket, ['work/j/resize.bundle', 'work/j/filter.bundle'])).resolves.toBe(2);
    expect(deps.s3.keys(bucket)).toEqual([]);
  });

  it('raises AccessDenied per key as AccessDeniedError (not retried)', async () => {
    const deps = fakeDeps();
    deps.s3.failDeleteKeys(() => true, 'AccessDenied', 1, 'Access Denied');
    await expect(deps.storage.deleteKeys(deps.config.outputBucket, ['renditions/a/sm.webp'])).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('names every code, and says when a code is not a known transient one', () => {
    expect(deleteFailureError('b', [{ key: 'k', code: 'SlowDown', message: 'Please reduce your request rate.' }], 3)).toMatchObject({
      name: 'StorageUnavailableError',
      message: 'S3 did not delete 1 of 3 keys in s3://b: k (SlowDown: Please reduce your request rate.)',
    });
    const many = Array.from({ length: 7 }, (_, index) => ({ key: `k${index}`, code: 'NoSuchVersion', message: '' }));
    expect(deleteFailureError('b', many, 7).message).toBe(
      'S3 did not delete 7 of 7 keys in s3://b: k0 (NoSuchVersion), k1 (NoSuchVersion), k2 (NoSuchVersion), k3 (NoSuchVersion), k4 (NoSuchVersion) and 2 more (not a known transient error)',
    );
  });

  it('sends Quiet batches of at most 1000 keys and tries every batch before raising', async () => {
    const { storage, sent } = recording(() => ({ Errors: [{ Key: 'k0', Code: 'SlowDown', Message: '' }] }));
    const keys = Array.from({ length: 2500 }, (_, index) => `k${index}`);
    await expect(storage.deleteKeys('b', keys)).rejects.toThrow('S3 did not delete 3 of 2500 keys');
    expect(sent.map((command) => (command as { input: { Delete: { Objects: unknown[]; Quiet: boolean } } }).input.Delete)).toMatchObject([
      { Quiet: true, Objects: { length: 1000 } },
      { Quiet: true, Objects: { length: 1000 } },
      { Quiet: true, Objects: { length: 500 } },
    ]);
  });
});

describe('Storage.copy', () => {
  it("never copies the source's tags: TaggingDirective REPLACE with none", async () => {
    const deps = fakeDeps();
    deps.s3.seed(FAKE_UPLOAD_BUCKET, 'photos/cat.jpg', Buffer.from('cat'), { tags: 'owner=alice' });
    await deps.storage.copy({ bucket: FAKE_UPLOAD_BUCKET, key: 'photos/cat.jpg' }, { bucket: deps.config.outputBucket, key: 'renditions/photos/cat/lg.jpg' });
    expect(deps.s3.object(deps.config.outputBucket, 'renditions/photos/cat/lg.jpg')).toMatchObject({ body: Buffer.from('cat') });
    expect(deps.s3.object(deps.config.outputBucket, 'renditions/photos/cat/lg.jpg')?.tags).toBeUndefined();
  });

  it('encodes the copy source so S3 reads back exactly the key, and the version as ?versionId=', async () => {
    expect(copySource({ bucket: 'b', key: 'dir/c++ plus+sign 100%.jpg' })).toBe('b/dir/c%2B%2B%20plus%2Bsign%20100%25.jpg');
    expect(copySource({ bucket: 'b', key: 'what?=&.jpg', versionId: 'a+b/c' })).toBe('b/what%3F%3D%26.jpg?versionId=a%2Bb%2Fc');
    expect(copySource({ bucket: 'b', key: 'ünï.jpg' })).toBe('b/%C3%BCn%C3%AF.jpg');
  });

  it("with the upload's ETag, copies the key's current object only while it is that content", async () => {
    const { storage, sent } = recording();
    await storage.copy({ bucket: 'up', key: 'a b.jpg', versionId: 'v1', etag: 'e1' }, { bucket: 'out', key: 'renditions/a/lg.jpg' }, 'image/jpeg', 'max-age=1');
    await storage.copy({ bucket: 'up', key: 'a b.jpg', versionId: 'v1' }, { bucket: 'out', key: 'renditions/a/md.jpg' });
    const [withEtag, withVersion] = sent as CopyObjectCommand[];
    expect(withEtag?.input).toEqual({
      Bucket: 'out',
      Key: 'renditions/a/lg.jpg',
      CopySource: 'up/a%20b.jpg',
      CopySourceIfMatch: '"e1"',
      TaggingDirective: 'REPLACE',
      ContentType: 'image/jpeg',
      MetadataDirective: 'REPLACE',
      CacheControl: 'max-age=1',
    });
    expect(withVersion?.input).toEqual({ Bucket: 'out', Key: 'renditions/a/md.jpg', CopySource: 'up/a%20b.jpg?versionId=v1', TaggingDirective: 'REPLACE' });
  });

  it('turns a 412 of the copy source into SourceMissingError naming the overwrite', async () => {
    const deps = fakeDeps();
    deps.s3.seed(FAKE_UPLOAD_BUCKET, 'a.jpg', Buffer.from('new'));
    await expect(deps.storage.copy({ bucket: FAKE_UPLOAD_BUCKET, key: 'a.jpg', etag: 'old' }, { bucket: 'out', key: 'x' })).rejects.toMatchObject({
      name: 'SourceMissingError',
      message: expect.stringContaining('was overwritten after its event was sent'),
    });
  });
});

describe('Storage.get', () => {
  it("with the upload's ETag, reads the current object under If-Match (no version id), else the version", async () => {
    const { storage, sent } = recording(() => ({ Body: { transformToByteArray: async () => new Uint8Array([1]) } }));
    await storage.get({ bucket: 'up', key: 'a.jpg', versionId: 'v1' }, 'e1');
    await storage.get({ bucket: 'up', key: 'a.jpg', versionId: 'v1' });
    expect((sent as GetObjectCommand[]).map((command) => command.input)).toEqual([
      { Bucket: 'up', Key: 'a.jpg', IfMatch: '"e1"' },
      { Bucket: 'up', Key: 'a.jpg', VersionId: 'v1' },
    ]);
  });
});

describe('Storage.head', () => {
  it('gives ETag and size, and undefined for what S3 answers about a missing object (404, 403 without s3:ListBucket, 400/405 for a version)', async () => {
    const deps = fakeDeps();
    const ref = deps.s3.seed(FAKE_UPLOAD_BUCKET, 'a.jpg', Buffer.from('abc'));
    expect(await deps.storage.head({ bucket: FAKE_UPLOAD_BUCKET, key: 'a.jpg' })).toEqual({ etag: ref.etag, size: 3 });
    expect(await deps.storage.head({ bucket: FAKE_UPLOAD_BUCKET, key: 'b.jpg' })).toBeUndefined();
    for (const status of [403, 400, 405]) {
      const { storage } = recording(() => {
        throw awsError('Unknown', status);
      });
      expect(await storage.head({ bucket: 'b', key: 'k' }), String(status)).toBeUndefined();
    }
    const { storage } = recording(() => {
      throw awsError('Unknown', 503, 'Service Unavailable');
    });
    await expect(storage.head({ bucket: 'b', key: 'k' })).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describe('Storage.put payload signing', () => {
  /** A real S3 client (real serializer and SigV4 signer) whose requests are caught instead of sent. */
  function signingClient() {
    const requests: Array<{ headers: Record<string, string> }> = [];
    const s3 = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      requestHandler: {
        handle: async (request: { headers: Record<string, string> }) => {
          requests.push(request);
          return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } };
        },
      },
    });
    return { storage: new Storage(s3), requests };
  }
  const body = Buffer.from('pixels');
  const location = { bucket: 'b', key: 'k' };

  it('lets the SDK hash the body by default', async () => {
    const { storage, requests } = signingClient();
    await storage.put(location, body, 'application/octet-stream');
    expect(requests[0]?.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it("signs with the caller's SHA-256 of the body, which S3 checks the body against", async () => {
    const { storage, requests } = signingClient();
    const sha256 = createHash('sha256').update(body).digest('hex');
    await storage.put(location, body, 'image/webp', undefined, { sha256 });
    expect(requests[0]?.headers['x-amz-content-sha256']).toBe(sha256);
    expect(requests[0]?.headers.authorization).toContain('SignedHeaders=');
  });

  it("leaves the body out of the signature with 'unsigned' (UNSIGNED-PAYLOAD)", async () => {
    const { storage, requests } = signingClient();
    await storage.put(location, body, 'application/octet-stream', undefined, 'unsigned');
    expect(requests[0]?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(requests[0]?.headers.authorization).toMatch(/x-amz-content-sha256/);
  });

  it('refuses a hash that is not a lowercase hex SHA-256', async () => {
    const { storage, requests } = signingClient();
    await expect(storage.put(location, body, 'image/webp', undefined, { sha256: 'ABC' })).rejects.toThrow(
      'Expected a lowercase hex SHA-256 for payload.sha256 but received "ABC" of type string',
    );
    expect(requests).toEqual([]);
  });
});
