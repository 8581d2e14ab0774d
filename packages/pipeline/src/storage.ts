import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
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

/** S3 as the steps use it. Errors come out named: SourceMissingError, AccessDeniedError (permanent) or StorageUnavailableError (transient). */
export class Storage {
  constructor(private readonly s3: S3Client) {}

  /**
   * Reads an object into memory. With `etag`, reads only that content: an object overwritten
   * since its event was sent is "superseded" (its own event will follow), not processed twice.
   */
  async get(location: ObjectLocation, etag?: string): Promise<Buffer> {
    try {
      const response = await this.s3.send(
        new GetObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          ...(location.versionId ? { VersionId: location.versionId } : {}),
          ...(etag ? { IfMatch: `"${etag}"` } : {}),
        }),
      );
      if (!response.Body) throw new StorageUnavailableError(`${describe(location)} returned no body`);
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (error) {
      throw this.translate(error, location, 'read');
    }
  }

  async put(location: ObjectLocation, body: Buffer, contentType: string, cacheControl?: string): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
          ...(cacheControl ? { CacheControl: cacheControl } : {}),
        }),
      );
    } catch (error) {
      throw this.translate(error, location, 'write');
    }
  }

  /** Server-side copy: no bytes pass through the Lambda. */
  async copy(from: ObjectLocation, to: ObjectLocation, contentType?: string, cacheControl?: string): Promise<void> {
    const source = `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, '/')}${from.versionId ? `?versionId=${encodeURIComponent(from.versionId)}` : ''}`;
    try {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          CopySource: source,
          ...(contentType ? { ContentType: contentType, MetadataDirective: 'REPLACE' } : {}),
          ...(cacheControl ? { CacheControl: cacheControl } : {}),
        }),
      );
    } catch (error) {
      throw this.translate(error, from, 'copy');
    }
  }

  async deleteKeys(bucket: string, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    try {
      for (let start = 0; start < keys.length; start += 1000) {
        const batch = keys.slice(start, start + 1000);
        await this.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      }
    } catch (error) {
      throw this.translate(error, { bucket, key: keys[0] ?? '' }, 'delete');
    }
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
