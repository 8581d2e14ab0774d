import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3rverStore } from './s3rver-internals.js';

export type VersioningStatus = 'Enabled' | 'Suspended';

/** A version that is no longer the current object: its bytes, headers and tags, or a delete marker. */
export interface NoncurrentVersion {
  versionId: string;
  deleteMarker?: true;
  /** The object's headers as s3rver keeps them (etag quoted, content-type, content-length, last-modified, cache-control, x-amz-meta-*). */
  metadata?: Record<string, string>;
  /** Its tags, as S3's Tagging XML, when it had any. */
  tagging?: string;
  /** File name of its bytes under the bucket's `bodies/` folder. */
  file?: string;
}

interface KeyVersions {
  /** The current object's version id ('null' for one written while versioning was suspended); absent when there is no current object or it predates versioning. */
  current?: string;
  /** Older versions, oldest first. */
  noncurrent: NoncurrentVersion[];
}

interface BucketVersions {
  status?: VersioningStatus;
  keys: Record<string, KeyVersions>;
}

/** A write in progress on a versioned bucket: undone if the write fails. */
export interface PendingWrite {
  bucket: string;
  key: string;
  /** The new current version's id ('null' while versioning is suspended). */
  versionId: string;
  previousCurrent: string | undefined;
  previousCount: number;
}

/** The version ids S3 hands out: opaque, URL-safe. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

async function streamToFile(content: Readable, path: string): Promise<void> {
  await pipeline(content, createWriteStream(path));
}

/**
 * Bucket versioning next to s3rver 3.7.1, which has none: the current object stays in s3rver's
 * store (so every other request behaves as before); older versions and delete markers are kept
 * here, bytes on disk, index in `<root>/<bucket>/index.json` (persistent with the data folder,
 * so a later run still knows the version ids it handed out).
 */
export class VersionStore {
  private readonly buckets = new Map<string, BucketVersions>();
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {}

  /** Reads what an earlier run left in the data folder. */
  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const bucket of await readdir(this.root)) {
      try {
        this.buckets.set(bucket, JSON.parse(await readFile(join(this.root, bucket, 'index.json'), 'utf8')) as BucketVersions);
      } catch {
        // No index (yet): the bucket was never versioned.
      }
    }
  }

  status(bucket: string): VersioningStatus | undefined {
    return this.buckets.get(bucket)?.status;
  }

  async setStatus(bucket: string, status: VersioningStatus): Promise<void> {
    this.bucket(bucket).status = status;
    await this.persist(bucket);
  }

  /** The current object's version id, when versioning gave it one. */
  current(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.keys[key]?.current;
  }

  noncurrent(bucket: string, key: string, versionId: string): NoncurrentVersion | undefined {
    return this.buckets.get(bucket)?.keys[key]?.noncurrent.find((version) => version.versionId === versionId);
  }

  /** The bytes of a noncurrent version. */
  body(bucket: string, version: NoncurrentVersion): Readable {
    return createReadStream(join(this.root, bucket, 'bodies', version.file ?? ''));
  }

  /**
   * Before a PUT or copy onto a key of a versioned bucket: the object it replaces becomes a
   * noncurrent version (unless it is the 'null' version of a suspended bucket, which S3
   * overwrites) and the new object's version id is current from now on, so a read of that
   * version id that races the write's event is served. Undefined for an unversioned bucket.
   */
  async beginWrite(store: S3rverStore, bucket: string, key: string): Promise<PendingWrite | undefined> {
    const status = this.status(bucket);
    if (!status) return undefined;
    const versions = this.versionsOf(bucket, key);
    const pending: PendingWrite = { bucket, key, versionId: status === 'Enabled' ? newVersionId() : 'null', previousCurrent: versions.current, previousCount: versions.noncurrent.length };
    await this.preserveCurrent(store, bucket, key, status);
    versions.current = pending.versionId;
    return pending;
  }

  /** After the write: kept when it succeeded, undone when it failed. */
  async endWrite(pending: PendingWrite | undefined, succeeded: boolean): Promise<void> {
    if (!pending) return;
    const versions = this.versionsOf(pending.bucket, pending.key);
    if (!succeeded) {
      versions.current = pending.previousCurrent;
      for (const version of versions.noncurrent.splice(pending.previousCount)) await this.removeBody(pending.bucket, version);
    } else if (pending.versionId === 'null') {
      // A suspended bucket's new 'null' version replaces any older 'null' version.
      const older = versions.noncurrent.filter((version) => version.versionId === 'null');
      versions.noncurrent = versions.noncurrent.filter((version) => version.versionId !== 'null');
      for (const version of older) await this.removeBody(pending.bucket, version);
    }
    await this.persist(pending.bucket);
  }

  /**
   * Before a DELETE without a version id on a versioned bucket: the current object becomes a
   * noncurrent version and a delete marker is placed on top. Returns the marker's version id.
   */
  async deleteMarker(store: S3rverStore, bucket: string, key: string): Promise<string | undefined> {
    const status = this.status(bucket);
    if (!status) return undefined;
    await this.preserveCurrent(store, bucket, key, status);
    const versions = this.versionsOf(bucket, key);
    const versionId = status === 'Enabled' ? newVersionId() : 'null';
    versions.noncurrent.push({ versionId, deleteMarker: true });
    delete versions.current;
    await this.persist(bucket);
    return versionId;
  }

  /** Deletes one noncurrent version for good (DELETE ?versionId=). False when there is no such noncurrent version. */
  async deleteNoncurrent(bucket: string, key: string, versionId: string): Promise<boolean> {
    const versions = this.buckets.get(bucket)?.keys[key];
    const index = versions?.noncurrent.findIndex((version) => version.versionId === versionId) ?? -1;
    if (!versions || index < 0) return false;
    const [removed] = versions.noncurrent.splice(index, 1);
    if (removed) await this.removeBody(bucket, removed);
    await this.persist(bucket);
    return true;
  }

  private async preserveCurrent(store: S3rverStore, bucket: string, key: string, status: VersioningStatus): Promise<void> {
    const versions = this.versionsOf(bucket, key);
    const versionId = versions.current ?? 'null';
    if (status === 'Suspended' && versionId === 'null') return;
    const object = await store.getObject(bucket, key);
    if (!object?.content) return;
    const file = newVersionId();
    await mkdir(join(this.root, bucket, 'bodies'), { recursive: true });
    await streamToFile(object.content, join(this.root, bucket, 'bodies', file));
    const tagging = await store.getSubresource(bucket, key, 'tagging');
    versions.noncurrent.push({
      versionId,
      metadata: Object.fromEntries(Object.entries(object.metadata).map(([name, value]) => [name, String(value)])),
      ...(tagging ? { tagging: tagging.toXML() } : {}),
      file,
    });
  }

  private async removeBody(bucket: string, version: NoncurrentVersion): Promise<void> {
    if (version.file) await rm(join(this.root, bucket, 'bodies', version.file), { force: true });
  }

  private bucket(bucket: string): BucketVersions {
    let versions = this.buckets.get(bucket);
    if (!versions) {
      versions = { keys: {} };
      this.buckets.set(bucket, versions);
    }
    return versions;
  }

  private versionsOf(bucket: string, key: string): KeyVersions {
    const keys = this.bucket(bucket).keys;
    keys[key] ??= { noncurrent: [] };
    return keys[key];
  }

  /** Writes a bucket's index; writes run one at a time, each with the latest state. */
  private persist(bucket: string): Promise<void> {
    const write = this.writes.then(async () => {
      await mkdir(join(this.root, bucket), { recursive: true });
      await writeFile(join(this.root, bucket, 'index.json'), JSON.stringify(this.buckets.get(bucket) ?? { keys: {} }));
    });
    this.writes = write.catch(() => undefined);
    return write;
  }
}
