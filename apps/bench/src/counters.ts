import sharp from 'sharp';
import type { DynamoUnits } from './dynamodb.js';

/** Exact, deterministic facts about one image going through one variant (no timing). */
export interface Counters {
  /** Full decodes of the uploaded original's bytes. */
  originalDecodes: number;
  /** Full decodes of any encoded image (original or intermediate); reopening raw pixels is not a decode. */
  totalDecodes: number;
  s3: S3Counts;
  /** Handler (Lambda) invocations per Task state, retries included. */
  invocations: Record<string, number>;
  lambdaInvocations: number;
  /** State transitions as Step Functions Standard bills them. */
  transitions: number;
  /** The largest state input or output in bytes of JSON. */
  maxPayloadBytes: number;
  /** Every AWS request the handlers made, by service and command (S3, DynamoDB, SNS). */
  requests: Record<string, number>;
  /** DynamoDB request units of the ledger calls (index writes included); absent for a variant without a ledger. */
  dynamodb?: DynamoUnits;
}

export interface S3Counts {
  gets: number;
  /** GETs of the uploaded original (a subset of gets). */
  originalGets: number;
  puts: number;
  /** PUTs (and copies) of final outputs, under the variant's output prefix (a subset of puts + copies). */
  outputPuts: number;
  copies: number;
  deletes: number;
  lists: number;
  getBytes: number;
  putBytes: number;
}

export function emptyS3Counts(): S3Counts {
  return { gets: 0, originalGets: 0, puts: 0, outputPuts: 0, copies: 0, deletes: 0, lists: 0, getBytes: 0, putBytes: 0 };
}

type Middleware = (next: (args: { input: unknown }) => Promise<{ output: unknown }>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<{ output: unknown }>;
interface MiddlewareClient {
  middlewareStack: { add(middleware: Middleware, options: { step: 'initialize'; name: string }): void };
}

function bodyLength(body: unknown): number {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}

/**
 * Counts AWS requests with SDK middleware, the way FaultInjector.attachTo adds its own: one
 * middleware per client, so every request the handlers make is seen with its input and output.
 * Only the clients it is attached to are counted (the bench's own uploads use another client).
 */
export class RequestCounter {
  s3 = emptyS3Counts();
  requests: Record<string, number> = {};
  /** The S3 object whose GETs count as reads of the original. */
  original?: { bucket: string; key: string };
  /** Where final outputs are written: PUTs and copies there are output PUTs. */
  outputs?: { bucket: string; prefix: string };

  reset(original?: { bucket: string; key: string }, outputs?: { bucket: string; prefix: string }): void {
    this.s3 = emptyS3Counts();
    this.requests = {};
    this.original = original;
    this.outputs = outputs;
  }

  private isOutput(input: { Bucket?: string; Key?: string }): boolean {
    return !!this.outputs && input.Bucket === this.outputs.bucket && (input.Key ?? '').startsWith(this.outputs.prefix);
  }

  attach(service: string, client: unknown): void {
    (client as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const name = `${service}:${command}`;
        this.requests[name] = (this.requests[name] ?? 0) + 1;
        const input = args.input as { Bucket?: string; Key?: string; Body?: unknown; ContentLength?: number };
        if (service === 's3') this.countS3Request(command, input);
        const result = await next(args);
        if (service === 's3' && command === 'GetObject') {
          this.s3.getBytes += Number((result.output as { ContentLength?: number }).ContentLength ?? 0);
        }
        return result;
      },
      { step: 'initialize', name: 'imgflowBenchCounter' },
    );
  }

  private countS3Request(command: string, input: { Bucket?: string; Key?: string; Body?: unknown; ContentLength?: number }): void {
    switch (command) {
      case 'GetObject':
        this.s3.gets += 1;
        if (this.original && input.Bucket === this.original.bucket && input.Key === this.original.key) this.s3.originalGets += 1;
        break;
      case 'PutObject':
        this.s3.puts += 1;
        if (this.isOutput(input)) this.s3.outputPuts += 1;
        this.s3.putBytes += input.ContentLength ?? bodyLength(input.Body);
        break;
      case 'CopyObject':
        this.s3.copies += 1;
        if (this.isOutput(input)) this.s3.outputPuts += 1;
        break;
      case 'DeleteObject':
      case 'DeleteObjects':
        this.s3.deletes += 1;
        break;
      case 'ListObjectsV2':
      case 'ListObjects':
        this.s3.lists += 1;
        break;
    }
  }
}

interface SharpInternals {
  options?: { input?: { buffer?: Buffer; file?: string; rawWidth?: number } };
}

/**
 * Counts full decodes made by any code in this process that uses sharp (imgflow's handlers
 * included, without touching them): every pipeline run (toBuffer, toFile, stats) whose input
 * is an encoded image is one decode; pipelines over raw pixels are not, and metadata() reads
 * the header only. A decode is "of the original" when its input bytes are the watched original.
 */
export class SharpDecodeCounter {
  originalDecodes = 0;
  totalDecodes = 0;
  private watched?: Buffer;
  private static installed?: SharpDecodeCounter;

  /** Patches sharp's prototype once per process; later calls return the same counter. */
  static install(): SharpDecodeCounter {
    if (SharpDecodeCounter.installed) return SharpDecodeCounter.installed;
    const counter = new SharpDecodeCounter();
    const prototype = sharp.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of ['toBuffer', 'toFile', 'stats']) {
      const original = prototype[method];
      if (typeof original !== 'function') throw new Error(`sharp has no ${method}() to count decodes with`);
      prototype[method] = function countedPipeline(this: SharpInternals, ...args: unknown[]) {
        counter.observe(this);
        return original.apply(this, args);
      };
    }
    SharpDecodeCounter.installed = counter;
    return counter;
  }

  reset(original?: Buffer): void {
    this.originalDecodes = 0;
    this.totalDecodes = 0;
    this.watched = original;
  }

  private observe(instance: SharpInternals): void {
    const input = instance.options?.input;
    if (!input || input.rawWidth !== undefined) return;
    if (!input.buffer && !input.file) return;
    this.totalDecodes += 1;
    const watched = this.watched;
    if (watched && input.buffer && input.buffer.length === watched.length && input.buffer.equals(watched)) this.originalDecodes += 1;
  }
}
