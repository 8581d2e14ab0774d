import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AccessDeniedError, SourceMissingError, StorageUnavailableError, isTransientAwsError } from './errors.js';

export interface ObjectLocation {
  bucket: string;
  key: string;
  versionId?: string;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function describe(location: ObjectLocation): string {
  return `s3://${location.bucket}/${location.key}`;
}

/** A key DeleteObjects did not delete, as S3 reports it inside its 200 answer. */
export interface DeleteFailure {
  key: string;
  code: string;
  message: string;
}

/** Per-key codes of DeleteObjects worth a retry (S3's 500/503 family). */
const TRANSIENT_DELETE_CODES = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout', 'OperationAborted']);

/**
 * The error for a DeleteObjects that left keys behind: AccessDeniedError when S3 refused any of
 * them (a role or policy is wrong: retrying will not help), StorageUnavailableError otherwise
 * (worth a retry; a repeated delete of what was deleted is harmless).
 */
export function deleteFailureError(bucket: string, failures: readonly DeleteFailure[], requested: number): Error {
  const listed = failures
    .slice(0, 5)
    .map((failure) => `${failure.key} (${failure.code}${failure.message ? `: ${failure.message}` : ''})`)
    .join(', ');
  const more = failures.length > 5 ? ` and ${failures.length - 5} more` : '';
  const summary = `S3 did not delete ${failures.length} of ${requested} keys in s3://${bucket}: ${listed}${more}`;
  if (failures.some((failure) => failure.code === 'AccessDenied')) {
    return new AccessDeniedError(`${summary}. Access is denied: check the function's role and the bucket and key policies`);
  }
  const transient = failures.every((failure) => TRANSIENT_DELETE_CODES.has(failure.code));
  return new StorageUnavailableError(`${summary}${transient ? '' : ' (not a known transient error)'}`);
}

/**
 * How SigV4 covers a PUT's body, in x-amz-content-sha256. By default the SDK reads the whole
 * body to hash it (SHA-256), on AWS as locally. A caller that already has the body's SHA-256
 * (an output, hashed for the manifest) passes it, and S3 still checks the body against it
 * (XAmzContentSHA256Mismatch); 'unsigned' (UNSIGNED-PAYLOAD) leaves the body out of the
 * signature, for a transient object whose integrity in transit TLS already guards (the raw
 * bundle between two steps: megabytes to hash for nothing).
 */
export type PayloadSigning = { sha256: string } | 'unsigned';

const SHA256_HEX = /^[0-9a-f]{64}$/;

function signPayloadAs(command: PutObjectCommand, payload: PayloadSigning): void {
  const value = payload === 'unsigned' ? 'UNSIGNED-PAYLOAD' : payload.sha256;
  if (value !== 'UNSIGNED-PAYLOAD' && !SHA256_HEX.test(value)) {
    throw new TypeError(`Expected a lowercase hex SHA-256 for payload.sha256 but received ${JSON.stringify(value)} of type ${typeof value}`);
  }
  // Build step: after serialization, before the signer (finalizeRequest), which takes a
  // x-amz-content-sha256 header as the payload's hash instead of hashing the body.
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = value;
      return next(args);
    },
    { step: 'build', name: 'imgflowPayloadSigning' },
  );
}

/** S3 as the steps use it. Errors come out named: SourceMissingError, AccessDeniedError (permanent) or StorageUnavailableError (transient). */
export class Storage {
  constructor(private readonly s3: S3Client) {}

  /**
   * Reads an object into memory. With `etag`, reads the key's current object only while it
   * is that content (If-Match, and no version id even in a versioned bucket): an upload
   * overwritten since its event was sent fails with 412, one deleted (or hidden by a delete
   * marker) with 404, both SourceMissingError: it is "superseded", the newer upload is processed
   * by its own job, and an older job can never write stale renditions over the newer ones.
   * Without `etag`, reads `versionId` when given.
   */
  async get(location: ObjectLocation, etag?: string): Promise<Buffer> {
    try {
      const response = await this.s3.send(
        new GetObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          ...(etag ? { IfMatch: `"${etag}"` } : location.versionId ? { VersionId: location.versionId } : {}),
        }),
      );
      if (!response.Body) throw new StorageUnavailableError(`${describe(location)} returned no body`);
      // A view of the SDK's collected bytes, not a copy: a bundle is megabytes (see bench README).
      const bytes = await response.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      throw this.translate(error, location, 'read');
    }
  }

  /**
   * The ETag and size of an object (HEAD), or undefined when S3 says it is not there: 404, and
   * 403 (what S3 answers for a missing key to a role without s3:ListBucket; a real denial shows
   * again on the read that follows), 400/405 for a version id that is not this key's or is a
   * delete marker. HEAD answers carry no error body, so the status decides.
   */
  async head(location: ObjectLocation): Promise<{ etag: string; size: number; versionId?: string } | undefined> {
    try {
      const response = await this.s3.send(
        new HeadObjectCommand({ Bucket: location.bucket, Key: location.key, ...(location.versionId ? { VersionId: location.versionId } : {}) }),
      );
      return {
        etag: (response.ETag ?? '').replace(/"/g, ''),
        size: response.ContentLength ?? 0,
        ...(response.VersionId ? { versionId: response.VersionId } : {}),
      };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 403 || status === 400 || status === 405) return undefined;
      throw this.translate(error, location, 'head');
    }
  }

  /**
   * Writes an object. `payload` says how SigV4 covers the body (see PayloadSigning); without it
   * the SDK hashes the whole body itself.
   */
  async put(location: ObjectLocation, body: Buffer, contentType: string, cacheControl?: string, payload?: PayloadSigning): Promise<void> {
    try {
      const command = new PutObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.length,
        ...(cacheControl ? { CacheControl: cacheControl } : {}),
      });
      if (payload) signPayloadAs(command, payload);
      await this.s3.send(command);
    } catch (error) {
      throw this.translate(error, location, 'write');
    }
  }

  /**
   * Server-side copy: no bytes pass through the Lambda. The copy never carries the source's tags
   * (TaggingDirective REPLACE with none): an uploader's tags do not land on renditions, and the
   * roles need no s3:GetObjectTagging/PutObjectTagging, which copying a tagged source with the
   * default COPY directive requires. With `from.etag`, the key's current object is copied only
   * while it is that content (x-amz-copy-source-if-match, no version id): an upload overwritten
   * or deleted since its event fails as `get` does. Without it, `from.versionId` is copied when given.
   */
  async copy(from: ObjectLocation & { etag?: string }, to: ObjectLocation, contentType?: string, cacheControl?: string): Promise<void> {
    try {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          CopySource: copySource(from.etag ? { bucket: from.bucket, key: from.key } : from),
          TaggingDirective: 'REPLACE',
          ...(from.etag ? { CopySourceIfMatch: `"${from.etag}"` } : {}),
          ...(contentType ? { ContentType: contentType, MetadataDirective: 'REPLACE' } : {}),
          ...(cacheControl ? { CacheControl: cacheControl } : {}),
        }),
      );
    } catch (error) {
      throw this.translate(error, from, 'copy');
    }
  }

  /**
   * Deletes keys (DeleteObjects, 1000 a request). S3 answers 200 even when some keys were not
   * deleted and lists those in `Errors`: they are raised (deleteFailureError), never dropped,
   * so a clean-up cannot silently leave objects behind. Every batch is tried before raising.
   */
  async deleteKeys(bucket: string, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const failures: DeleteFailure[] = [];
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      try {
        const response = await this.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
        for (const error of response.Errors ?? []) {
          failures.push({ key: error.Key ?? '', code: error.Code ?? 'Unknown', message: error.Message ?? '' });
        }
      } catch (error) {
        throw this.translate(error, { bucket, key: batch[0] ?? '' }, 'delete');
      }
    }
    if (failures.length > 0) throw deleteFailureError(bucket, failures, keys.length);
    return keys.length;
  }

  private translate(error: unknown, location: ObjectLocation, action: string): Error {
    if (error instanceof SourceMissingError || error instanceof StorageUnavailableError || error instanceof AccessDeniedError) return error;
    const status = statusOf(error);
    const name = (error as Error).name;
    if (status === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket') {
      return new SourceMissingError(`${describe(location)} does not exist (it may have been deleted before it was processed)`, { cause: error });
    }
    if (status === 412 || name === 'PreconditionFailed') {
      return new SourceMissingError(`${describe(location)} was overwritten after its event was sent; the newer upload is processed on its own`, {
        cause: error,
      });
    }
    if (status === 403 || name === 'AccessDenied') {
      return new AccessDeniedError(`Access to ${describe(location)} is denied: check the function's role and the bucket and key policies`, { cause: error });
    }
    const reason = isTransientAwsError(error) ? 'is unavailable' : 'failed';
    return new StorageUnavailableError(`S3 ${reason} on ${action} of ${describe(location)}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The x-amz-copy-source of an object: `bucket/key` with the key URL-encoded (`/` kept; `+`,
 * `%`, `?`, spaces and unicode escaped, so S3 reads back exactly the key) and `?versionId=` for
 * a version (which S3 reads with s3:GetObjectVersion).
 */
export function copySource(from: ObjectLocation): string {
  return `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, '/')}${from.versionId ? `?versionId=${encodeURIComponent(from.versionId)}` : ''}`;
}
