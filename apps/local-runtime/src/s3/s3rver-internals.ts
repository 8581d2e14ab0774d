// s3rver 3.7.1's own parts the strict layer reuses (its error type, models, store and XML
// parser), loaded from its installed copy, and the few shapes of them this code relies on.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

const require = createRequire(import.meta.url);
const s3rverRequire = createRequire(require.resolve('s3rver'));

/** An S3 error as s3rver answers it: code, message, HTTP status from its table, XML body. */
export interface S3ErrorInstance extends Error {
  code: string;
  status: number;
}

type S3ErrorClass = new (code: string, message?: string, detail?: Record<string, unknown>) => S3ErrorInstance;

export interface StoredObjectMetadata {
  etag: string;
  'last-modified': string;
  'content-length': number | string;
  'content-type'?: string;
  [header: string]: string | number | undefined;
}

export interface S3rverObject {
  bucket: string;
  key: string;
  content: Readable | null;
  metadata: StoredObjectMetadata;
}

export interface S3rverConfig {
  type: string;
  toXML(indent?: number): string;
}

/** s3rver's FilesystemStore, the methods used here. */
export interface S3rverStore {
  getBucket(bucket: string): Promise<unknown>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  getMetadata(bucket: string, key: string): Promise<StoredObjectMetadata>;
  getObject(bucket: string, key: string): Promise<S3rverObject | null>;
  putObject(object: S3rverObject): Promise<{ md5: string; size: number }>;
  deleteObject(bucket: string, key: string): Promise<void>;
  getSubresource(bucket: string, key: string, type: string): Promise<S3rverConfig | null>;
  putSubresource(bucket: string, key: string, config: S3rverConfig): Promise<void>;
  deleteSubresource(bucket: string, key: string, type: string): Promise<void>;
}

/** The part of a Koa context (s3rver is a Koa app) the strict layer reads and writes. */
export interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  req: IncomingMessage | Readable;
  status: number;
  body: unknown;
  length: number;
  ip: string;
  get(name: string): string;
  set(name: string, value: string): void;
  store: S3rverStore;
}

export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

export const S3Error = s3rverRequire('./models/error') as S3ErrorClass;
export const S3Object = s3rverRequire('./models/object') as new (bucket: string, key: string, content: Readable | Buffer | null, metadata: Record<string, unknown>) => S3rverObject;
export const S3Event = s3rverRequire('./models/event') as new (
  data: { bucket: string; eventType: 'Put' | 'Copy' | 'Post' | 'Delete'; S3Item: S3rverObject | { key: string } },
  request: { reqHeaders: Record<string, unknown>; sourceIp: string },
) => { Records: unknown[] };
export const { TaggingConfiguration } = s3rverRequire('./models/config') as { TaggingConfiguration: { validate(xml: string): S3rverConfig } };
const AWSAccount = s3rverRequire('./models/account') as { registry: Map<string, unknown> };

/** Whether s3rver knows an access key id (it checks no more of a SigV4 request than that). */
export function knownAccessKey(accessKeyId: string): boolean {
  return AWSAccount.registry.has(accessKeyId);
}

const xmlParser = s3rverRequire('fast-xml-parser') as { validate(xml: string): true | object; parse(xml: string, options?: Record<string, unknown>): unknown };
const he = s3rverRequire('he') as { decode(text: string): string };

/**
 * Parses an XML request body: entities decoded, values kept as written (s3rver's own parser
 * turns a key "007" into the number 7 and trims " a.jpg" to "a.jpg"); MalformedXML when it is not XML.
 */
export function parseXml(xml: string): unknown {
  if (xmlParser.validate(xml) !== true) {
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  }
  return xmlParser.parse(xml, { parseNodeValue: false, trimValues: false, tagValueProcessor: (value: string) => he.decode(value) });
}
