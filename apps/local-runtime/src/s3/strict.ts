import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { encodeEventKey } from '@imgflow/pipeline';
import type S3rver from 's3rver';
import {
  type KoaContext,
  type KoaMiddleware,
  S3Error,
  S3Event,
  S3Object,
  type S3rverStore,
  type StoredObjectMetadata,
  TaggingConfiguration,
  knownAccessKey,
  parseXml,
} from './s3rver-internals.js';
import { type NoncurrentVersion, type PendingWrite, type VersioningStatus, VersionStore } from './versions.js';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * The request header through which the local fault injector (FaultInjector.failDeleteKeys)
 * asks the strict S3 for per-key DeleteObjects failures: URI-encoded JSON
 * `[{ "Key", "Code", "Message" }]`. It travels with the request, so it works for emulators in
 * this process and in a child process alike; S3 itself never sees it.
 */
export const DELETE_ERRORS_HEADER = 'x-imgflow-fault-delete-errors';

/** One S3 action a request implies, for an optional authorizer (e.g. IAM evaluation). */
export interface S3Access {
  /** The access key id of the request's SigV4 credential. */
  accessKeyId: string | undefined;
  /** e.g. `s3:GetObject`, `s3:PutObjectTagging`. */
  action: string;
  /** The object's ARN, `arn:aws:s3:::bucket/key`. */
  resource: string;
}

/** Answers whether an action is allowed: false fails the request with 403 AccessDenied (or puts the key in DeleteObjects' Errors). */
export type S3Authorizer = (access: S3Access) => boolean | Promise<boolean>;

export interface StrictS3Options {
  /** Where older object versions are kept (e.g. `<data>/s3-versions`). */
  versionsDir: string;
}

/** A handle on the strict layer of one s3rver. */
export interface StrictS3 {
  readonly versions: VersionStore;
  /** Checked for every object action the layer sees, including the tagging actions a copy implies; absent: everything is allowed. */
  authorize?: S3Authorizer;
  /** Errors thrown by 'event' listeners (S3 never fails a write because of a notification consumer: they are kept here and warned about). */
  readonly listenerErrors: Error[];
}

interface RequestState {
  /** The version id the write creates (put into the event record). */
  versionId?: string;
  /** The ETag the event should carry when s3rver's record has none (copies). */
  etag?: string;
  deleteMarker?: boolean;
}

interface ParsedRequest {
  bucket: string;
  key: string | undefined;
  query: Record<string, string>;
  accessKeyId: string | undefined;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/"/g, '');
}

/** True when an If-Match style header (a list of ETags, or `*`) matches the ETag. */
function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map(unquote)
    .includes(unquote(etag));
}

function preconditionFailed(condition: string): Error {
  return new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

function noSuchVersion(key: string, versionId: string): Error {
  return new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
}

async function readBytes(request: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function readBody(request: AsyncIterable<Buffer | string>): Promise<string> {
  return (await readBytes(request)).toString('utf8');
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function taggingXml(header: string): string {
  const tags = [...new URLSearchParams(header)].map(([key, value]) => `<Tag><Key>${escapeXml(key)}</Key><Value>${escapeXml(value)}</Value></Tag>`).join('');
  return `<Tagging><TagSet>${tags}</TagSet></Tagging>`;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseRequest(ctx: KoaContext): ParsedRequest {
  const [, rawBucket = '', ...rawKey] = ctx.path.split('/');
  let bucket: string;
  let key: string | undefined;
  try {
    bucket = decodeURIComponent(rawBucket);
    key = rawKey.length > 0 && rawKey.join('/') !== '' ? decodeURIComponent(rawKey.join('/')) : undefined;
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.query)) if (name !== 'x-id') query[name] = firstValue(value) ?? '';
  const credential = /Credential=([^/]+)\//.exec(ctx.get('authorization'))?.[1] ?? query['X-Amz-Credential']?.split('/')[0];
  return { bucket, key, query, accessKeyId: credential };
}

const READ_PARAMETERS = /^(versionId|partNumber|response-.*|X-Amz-.*)$/;

/**
 * S3 refuses a PUT whose body does not hash to the SHA-256 its x-amz-content-sha256 header
 * signs (400 XAmzContentSHA256Mismatch; s3rver only checks the header's form). The body is read
 * here, compared, and handed on to s3rver as it was. UNSIGNED-PAYLOAD is taken as it is.
 */
async function checkPayloadHash(ctx: KoaContext): Promise<void> {
  const claimed = ctx.get('x-amz-content-sha256');
  if (!/^[0-9a-fA-F]{64}$/.test(claimed)) return;
  const body = await readBytes(ctx.req as AsyncIterable<Buffer>);
  const computed = createHash('sha256').update(body).digest('hex');
  if (computed !== claimed.toLowerCase()) {
    const mismatch = new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
      ClientComputedContentSHA256: claimed,
      S3ComputedContentSHA256: computed,
    });
    // s3rver's table has no status for this code (it would answer 500, which a client retries): S3 answers 400.
    mismatch.status = 400;
    throw mismatch;
  }
  ctx.req = Readable.from([body]);
}

/**
 * Makes s3rver 3.7.1 as strict as S3 where imgflow depends on it, without changing s3rver: one
 * Koa middleware spliced in after its XML encoder and before its router, and a wrapper around
 * its event emitter. What it adds or corrects:
 *
 * - If-Match on GET and HEAD: 412 PreconditionFailed when the ETag differs (s3rver ignores it);
 *   x-amz-copy-source-if-match on CopyObject likewise.
 * - Bucket versioning: PUT/GET `?versioning` (Enabled, Suspended); every write to a versioned
 *   bucket gets an `x-amz-version-id` and puts its `versionId` into the event record; GET/HEAD
 *   and CopyObject of `?versionId=` serve older versions (404 NoSuchVersion for an unknown one);
 *   a DELETE places a delete marker (the older versions stay readable).
 * - DeleteObjects: per-key results as S3 gives them (Errors[] inside a 200 for keys an injected
 *   fault or the authorizer refuses, Deleted for the others, also for keys that did not exist),
 *   Quiet honoured, keys taken verbatim, an ObjectRemoved event per deleted object (s3rver emits
 *   none and parses "007" as the number 7).
 * - Tags: `x-amz-tagging` on PutObject is stored (s3rver drops it) and a PUT without it leaves
 *   no tags behind; CopyObject copies the source's tags by default (TaggingDirective COPY) and
 *   replaces them with REPLACE, asking the authorizer for s3:GetObjectTagging and
 *   s3:PutObjectTagging when it copies tags, as S3 requires.
 * - CopySource: the `x-amz-copy-source` header is URL-decoded as S3 does (`%2B` is `+`, `+` is
 *   `+`, `?versionId=` is a version, not part of the key); s3rver's decodeURI left `%2B` and
 *   friends encoded and took the query as part of the key.
 * - PutObject's x-amz-content-sha256: a body that does not hash to it is refused, 400
 *   XAmzContentSHA256Mismatch, and nothing is stored (s3rver only checks the header's form).
 * - Event records: keys URL-encoded as AWS writes them (`a b+c.jpg` → `a+b%2Bc.jpg`), the
 *   bucket ARN well-formed, the ETag on copies; a listener that throws no longer turns the
 *   upload into a 500.
 */
export async function makeStrict(server: S3rver, options: StrictS3Options): Promise<StrictS3> {
  const versions = new VersionStore(options.versionsDir);
  await versions.load();
  const requests = new AsyncLocalStorage<RequestState>();
  const strict: StrictS3 = { versions, listenerErrors: [] };
  const app = server as unknown as { middleware: KoaMiddleware[]; emit: (name: string | symbol, ...args: unknown[]) => boolean };

  // Each listener on its own, as S3 delivers to each destination: one that throws neither fails
  // the write nor keeps the others from the event.
  const emit = app.emit.bind(server);
  app.emit = (name, ...args) => {
    if (name !== 'event') return emit(name, ...args);
    shapeRecords(args[0] as { Records?: RecordShape[] }, requests.getStore());
    const listeners = server.rawListeners('event') as Array<(...values: unknown[]) => unknown>;
    for (const listener of listeners) {
      try {
        listener.apply(server, args);
      } catch (error) {
        strict.listenerErrors.push(error as Error);
        process.emitWarning(`An S3 event listener failed (the write itself succeeded, as on S3): ${(error as Error).message}`);
      }
    }
    return listeners.length > 0;
  };

  async function allowed(accessKeyId: string | undefined, action: string, bucket: string, key: string): Promise<boolean> {
    return !strict.authorize || (await strict.authorize({ accessKeyId, action, resource: `arn:aws:s3:::${bucket}/${key}` }));
  }

  async function authorize(accessKeyId: string | undefined, action: string, bucket: string, key: string): Promise<void> {
    if (!(await allowed(accessKeyId, action, bucket, key))) throw new S3Error('AccessDenied', 'Access Denied');
  }

  /** What s3rver's router checks of a request's credentials, for the requests answered here without it. */
  function authenticate(request: ParsedRequest): void {
    if (request.accessKeyId === undefined) throw new S3Error('AccessDenied', 'Access Denied');
    if (!knownAccessKey(request.accessKeyId)) {
      throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: request.accessKeyId });
    }
  }

  async function putTags(store: S3rverStore, bucket: string, key: string, xml: string | undefined): Promise<void> {
    if (xml) await store.putSubresource(bucket, key, TaggingConfiguration.validate(xml));
    else await store.deleteSubresource(bucket, key, 'tagging');
  }

  /** Runs s3rver's handler for a write, with the version bookkeeping around it. */
  async function write(ctx: KoaContext, pending: PendingWrite | undefined, state: RequestState, run: () => Promise<void>): Promise<boolean> {
    let succeeded = false;
    try {
      await requests.run(state, run);
      succeeded = ctx.status < 300;
    } finally {
      await versions.endWrite(pending, succeeded);
    }
    if (succeeded && pending && pending.versionId !== 'null') ctx.set('x-amz-version-id', pending.versionId);
    return succeeded;
  }

  function serveVersion(ctx: KoaContext, version: NoncurrentVersion, bucket: string): void {
    if (version.deleteMarker) {
      ctx.set('x-amz-delete-marker', 'true');
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: ctx.method, ResourceType: 'DeleteMarker' });
    }
    const metadata = version.metadata ?? {};
    const ifMatch = ctx.get('if-match');
    if (ifMatch && !etagMatches(ifMatch, metadata.etag ?? '')) throw preconditionFailed('If-Match');
    for (const [name, value] of Object.entries(metadata)) if (name !== 'last-modified' && name !== 'content-length') ctx.set(name, value);
    ctx.set('Last-Modified', new Date(metadata['last-modified'] ?? Date.now()).toUTCString());
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('x-amz-version-id', version.versionId);
    ctx.status = 200;
    ctx.set('Content-Length', String(metadata['content-length'] ?? 0));
    if (ctx.method !== 'HEAD') ctx.body = versions.body(bucket, version);
  }

  async function read(ctx: KoaContext, request: ParsedRequest, key: string, next: () => Promise<void>): Promise<void> {
    const { bucket, query } = request;
    const versionId = query.versionId;
    await authorize(request.accessKeyId, versionId ? 's3:GetObjectVersion' : 's3:GetObject', bucket, key);
    const current = versions.current(bucket, key) ?? 'null';
    if (versionId && versionId !== current) {
      const version = versions.noncurrent(bucket, key, versionId);
      if (!version) throw noSuchVersion(key, versionId);
      serveVersion(ctx, version, bucket);
      return;
    }
    const exists = await ctx.store.existsObject(bucket, key);
    if (!exists && versionId) throw noSuchVersion(key, versionId);
    const ifMatch = ctx.get('if-match');
    if (exists && ifMatch && !etagMatches(ifMatch, (await ctx.store.getMetadata(bucket, key)).etag)) throw preconditionFailed('If-Match');
    if (exists && versions.status(bucket) && current !== 'null') ctx.set('x-amz-version-id', current);
    await next();
  }

  async function put(ctx: KoaContext, request: ParsedRequest, key: string, next: () => Promise<void>): Promise<void> {
    const { bucket } = request;
    const tagging = ctx.get('x-amz-tagging');
    await authorize(request.accessKeyId, 's3:PutObject', bucket, key);
    if (tagging) await authorize(request.accessKeyId, 's3:PutObjectTagging', bucket, key);
    const tags = tagging ? taggingXml(tagging) : undefined;
    if (tags) TaggingConfiguration.validate(tags);
    const pending = await versions.beginWrite(ctx.store, bucket, key);
    const state: RequestState = pending && pending.versionId !== 'null' ? { versionId: pending.versionId } : {};
    if (await write(ctx, pending, state, next)) await putTags(ctx.store, bucket, key, tags);
  }

  async function copy(ctx: KoaContext, request: ParsedRequest, key: string, next: () => Promise<void>): Promise<void> {
    const { bucket } = request;
    const header = ctx.get('x-amz-copy-source');
    const queryAt = header.indexOf('?');
    const rawPath = (queryAt < 0 ? header : header.slice(0, queryAt)).replace(/^\//, '');
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
    }
    const slash = path.indexOf('/');
    if (slash <= 0 || slash === path.length - 1) {
      throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
    }
    const sourceBucket = path.slice(0, slash);
    const sourceKey = path.slice(slash + 1);
    const sourceVersionId = queryAt < 0 ? undefined : (new URLSearchParams(header.slice(queryAt + 1)).get('versionId') ?? undefined);
    await authorize(request.accessKeyId, sourceVersionId ? 's3:GetObjectVersion' : 's3:GetObject', sourceBucket, sourceKey);
    await authorize(request.accessKeyId, 's3:PutObject', bucket, key);

    const currentSource = versions.current(sourceBucket, sourceKey) ?? 'null';
    const older = sourceVersionId && sourceVersionId !== currentSource ? versions.noncurrent(sourceBucket, sourceKey, sourceVersionId) : undefined;
    if (sourceVersionId && sourceVersionId !== currentSource && (!older || older.deleteMarker)) {
      if (older?.deleteMarker) throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
      throw noSuchVersion(sourceKey, sourceVersionId);
    }
    if (!older && !(await ctx.store.existsObject(sourceBucket, sourceKey))) {
      if (sourceVersionId) throw noSuchVersion(sourceKey, sourceVersionId);
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: sourceKey });
    }
    const sourceMetadata: Partial<StoredObjectMetadata> = older ? (older.metadata ?? {}) : await ctx.store.getMetadata(sourceBucket, sourceKey);
    const ifMatch = ctx.get('x-amz-copy-source-if-match');
    if (ifMatch && !etagMatches(ifMatch, String(sourceMetadata.etag ?? ''))) throw preconditionFailed('x-amz-copy-source-If-Match');

    const directive = (ctx.get('x-amz-tagging-directive') || 'COPY').toUpperCase();
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: directive });
    }
    const sourceTags = older ? older.tagging : (await ctx.store.getSubresource(sourceBucket, sourceKey, 'tagging'))?.toXML();
    const hasSourceTags = sourceTags !== undefined && /<Tag>/.test(sourceTags);
    let tags: string | undefined;
    if (directive === 'COPY') {
      if (hasSourceTags) {
        await authorize(request.accessKeyId, sourceVersionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', sourceBucket, sourceKey);
        await authorize(request.accessKeyId, 's3:PutObjectTagging', bucket, key);
        tags = sourceTags;
      }
    } else if (ctx.get('x-amz-tagging')) {
      await authorize(request.accessKeyId, 's3:PutObjectTagging', bucket, key);
      tags = taggingXml(ctx.get('x-amz-tagging'));
    }

    const pending = await versions.beginWrite(ctx.store, bucket, key);
    const state: RequestState = { etag: unquote(String(sourceMetadata.etag ?? '')), ...(pending && pending.versionId !== 'null' ? { versionId: pending.versionId } : {}) };
    const copied = await write(ctx, pending, state, async () => {
      if (!older) {
        // s3rver runs decodeURI() on the header: give it a form that decodeURI maps back to the key.
        ctx.headers['x-amz-copy-source'] = `/${sourceBucket}/${encodeURI(sourceKey)}`;
        await next();
        return;
      }
      // s3rver copies only current objects: an older version is copied here.
      const replace = ctx.get('x-amz-metadata-directive') === 'REPLACE';
      const metadata = replace ? { ...ctx.headers } : { ...older.metadata };
      const stored = await ctx.store.putObject(new S3Object(bucket, key, versions.body(sourceBucket, older), metadata));
      app.emit(
        'event',
        new S3Event(
          { bucket, eventType: 'Copy', S3Item: new S3Object(bucket, key, null, { ...metadata, 'content-length': stored.size, etag: JSON.stringify(stored.md5) }) },
          { reqHeaders: ctx.headers, sourceIp: ctx.ip },
        ),
      );
      ctx.status = 200;
      ctx.body = { CopyObjectResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(stored.md5) } };
    });
    if (!copied) return;
    await putTags(ctx.store, bucket, key, tags);
    if (versions.status(sourceBucket) && (sourceVersionId ?? currentSource) !== 'null') ctx.set('x-amz-copy-source-version-id', sourceVersionId ?? currentSource);
  }

  async function remove(ctx: KoaContext, request: ParsedRequest, key: string, next: () => Promise<void>): Promise<void> {
    const { bucket, query } = request;
    const versionId = query.versionId;
    await authorize(request.accessKeyId, versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', bucket, key);
    if (versionId) {
      if (versionId !== (versions.current(bucket, key) ?? 'null')) {
        await versions.deleteNoncurrent(bucket, key, versionId);
        ctx.set('x-amz-version-id', versionId);
        ctx.status = 204;
        return;
      }
      throw new S3Error('NotImplemented', 'The local S3 deletes a current version by deleting the object (a delete marker) only.');
    }
    const marker = (await ctx.store.existsObject(bucket, key)) ? await versions.deleteMarker(ctx.store, bucket, key) : undefined;
    await ctx.store.deleteSubresource(bucket, key, 'tagging');
    await requests.run(marker ? { versionId: marker, deleteMarker: true } : {}, next);
    if (marker) {
      ctx.set('x-amz-delete-marker', 'true');
      if (marker !== 'null') ctx.set('x-amz-version-id', marker);
    }
  }

  async function deleteObjects(ctx: KoaContext, request: ParsedRequest): Promise<void> {
    const { bucket } = request;
    authenticate(request);
    if (!(await ctx.store.getBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    const parsed = parseXml(await readBody(ctx.req as AsyncIterable<Buffer>)) as { Delete?: { Object?: unknown; Quiet?: unknown } };
    const objects = ([] as Array<{ Key?: unknown; VersionId?: unknown }>).concat((parsed.Delete?.Object as never) ?? []);
    if (!parsed.Delete || objects.length === 0) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    }
    const quiet = String(parsed.Delete.Quiet ?? '').trim() === 'true';
    const injected = new Map<string, { Code: string; Message: string }>();
    const header = ctx.get(DELETE_ERRORS_HEADER);
    if (header) {
      for (const fault of JSON.parse(decodeURIComponent(header)) as Array<{ Key: string; Code: string; Message?: string }>) {
        injected.set(fault.Key, { Code: fault.Code, Message: fault.Message ?? fault.Code });
      }
    }
    const deleted: Array<Record<string, unknown>> = [];
    const errors: Array<Record<string, unknown>> = [];
    for (const object of objects) {
      const key = String(object.Key ?? '');
      const fault = injected.get(key);
      if (fault) {
        errors.push({ Key: key, Code: fault.Code, Message: fault.Message });
        continue;
      }
      if (!(await allowed(request.accessKeyId, 's3:DeleteObject', bucket, key))) {
        errors.push({ Key: key, Code: 'AccessDenied', Message: 'Access Denied' });
        continue;
      }
      if (await ctx.store.existsObject(bucket, key)) {
        const marker = await versions.deleteMarker(ctx.store, bucket, key);
        await ctx.store.deleteObject(bucket, key);
        await ctx.store.deleteSubresource(bucket, key, 'tagging');
        deleted.push({ Key: key, ...(marker ? { DeleteMarker: 'true', ...(marker !== 'null' ? { DeleteMarkerVersionId: marker } : {}) } : {}) });
        requests.run(marker ? { versionId: marker, deleteMarker: true } : {}, () =>
          app.emit('event', new S3Event({ bucket, eventType: 'Delete', S3Item: { key } }, { reqHeaders: ctx.headers, sourceIp: ctx.ip })),
        );
      } else {
        // S3 reports a key that was not there as deleted.
        deleted.push({ Key: key });
      }
    }
    ctx.status = 200;
    ctx.body = { DeleteResult: { '@': { xmlns: XMLNS }, ...(quiet || deleted.length === 0 ? {} : { Deleted: deleted }), ...(errors.length ? { Error: errors } : {}) } };
  }

  const middleware: KoaMiddleware = async (ctx, next) => {
    const request = parseRequest(ctx);
    const { bucket, key, query } = request;
    if (!bucket) return next();
    const names = Object.keys(query);
    if (key === undefined) {
      if ('versioning' in query && ctx.method === 'PUT') {
        authenticate(request);
        if (!(await ctx.store.getBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
        const status = /<Status>\s*(Enabled|Suspended)\s*<\/Status>/.exec(await readBody(ctx.req as AsyncIterable<Buffer>))?.[1] as VersioningStatus | undefined;
        if (!status) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
        await versions.setStatus(bucket, status);
        ctx.status = 200;
        ctx.body = '';
        return;
      }
      if ('versioning' in query && ctx.method === 'GET') {
        authenticate(request);
        if (!(await ctx.store.getBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
        const status = versions.status(bucket);
        ctx.body = { VersioningConfiguration: { '@': { xmlns: XMLNS }, ...(status ? { Status: status } : {}) } };
        return;
      }
      if ('delete' in query && ctx.method === 'POST') return deleteObjects(ctx, request);
      return next();
    }
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && names.every((name) => READ_PARAMETERS.test(name))) return read(ctx, request, key, next);
    if (ctx.method === 'PUT' && names.length === 0) {
      if (ctx.get('x-amz-copy-source')) return copy(ctx, request, key, next);
      await checkPayloadHash(ctx);
      return put(ctx, request, key, next);
    }
    if (ctx.method === 'DELETE' && names.every((name) => name === 'versionId')) return remove(ctx, request, key, next);
    return next();
  };

  // s3rver's middleware is [logger, XML encoder, mount path, vhost, router]: after the encoder
  // (a plain-object body becomes XML, errors become S3 error documents), before routing.
  app.middleware.splice(2, 0, middleware);
  return strict;
}

interface RecordShape {
  eventName: string;
  s3: { bucket: { name: string; arn?: string }; object: { key: string; eTag?: string; versionId?: string } };
}

/** Turns s3rver's records into what AWS sends: the key URL-encoded, the version, the ETag of a copy, a proper bucket ARN. */
function shapeRecords(event: { Records?: RecordShape[] } | undefined, state: RequestState | undefined): void {
  for (const record of event?.Records ?? []) {
    const { object, bucket } = record.s3;
    object.key = encodeEventKey(object.key);
    bucket.arn = `arn:aws:s3:::${bucket.name}`;
    if (state?.versionId) object.versionId = state.versionId;
    if (state?.deleteMarker && record.eventName === 'ObjectRemoved:Delete') record.eventName = 'ObjectRemoved:DeleteMarkerCreated';
    if (record.eventName.startsWith('ObjectCreated:') && !object.eTag && state?.etag) object.eTag = state.etag;
  }
}
