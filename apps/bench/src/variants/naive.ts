import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { type Recipe, fixedQuality } from '@imgflow/image-core';
import { type EmulatorProcess, LocalStack, spawnEmulators } from '@imgflow/local-runtime';
import sharp, { type Sharp } from 'sharp';
import { RequestCounter } from '../counters.js';
import { processCpuMs } from '../proc.js';
import { benchKey, benchS3Client, deleteObjects } from './imgflow.js';
import type { LambdaCall, LambdaRole, OutputFile, RunRequest, RunResult, Variant } from './types.js';

/**
 * The naive design: what a first tutorial writes. Five Lambda functions chained by a
 * Map-based Step Functions workflow, every step reading its input from S3, decoding it,
 * doing its work, re-encoding (JPEG q95) and writing the result back:
 *
 *   Validate ─► ResizeMap (Map over renditions: Resize) ─► FilterMap (Map over renditions: Filter)
 *            ─► OptimizeMap (Map over renditions × formats: Optimize) ─► Notify
 *
 * - Validate: GET the original, decode it fully (to check it is an image), return its size.
 * - Resize, one invocation per rendition: GET the original, decode, resize, encode JPEG q95, PUT.
 * - Filter, one per rendition: GET the resized JPEG, decode, apply the filters (none in the
 *   default recipe), encode JPEG q95, PUT.
 * - Optimize, one per rendition × format: GET the filtered JPEG, decode, encode with the
 *   recipe's encoder settings, PUT the output.
 * - Notify: publish to SNS.
 *
 * It runs against the same emulators as imgflow (a LocalStack's S3 and SNS clients and
 * buckets); it needs no Step Functions engine: the workflow is modeled (see NAIVE_MODEL), the
 * work is real. Map iterations run concurrently, as a Map state with no MaxConcurrency does.
 */

/**
 * How the modeled workflow is billed. Standard counts a transition for every state entered:
 * Validate 1 + ResizeMap (1 + one Resize per rendition) + FilterMap (1 + one per rendition)
 * + OptimizeMap (1 + one per rendition × format) + Notify 1. With 3 renditions × 3 formats:
 * 1 + 4 + 4 + 10 + 1 = 20 transitions and 1 + 3 + 3 + 9 + 1 = 17 Lambda invocations.
 */
export function naiveModel(renditions: number, outputs: number): { transitions: number; invocations: Record<string, number> } {
  return {
    transitions: 1 + (1 + renditions) + (1 + renditions) + (1 + outputs) + 1,
    invocations: { Validate: 1, Resize: renditions, Filter: renditions, Optimize: outputs, Notify: 1 },
  };
}

const EXTENSIONS: Record<string, string> = { avif: 'avif', webp: 'webp', jpeg: 'jpg', png: 'png' };

interface NaiveContext {
  s3: S3Client;
  bucket: string;
  original: { bucket: string; key: string };
  prefix: string;
  recipe: Recipe;
  lambda: LambdaCall[];
  decodes: { original: number; total: number };
  /** Every state input and output the modeled workflow would carry, for the largest-payload figure. */
  payloads: unknown[];
}

async function get(context: NaiveContext, bucket: string, key: string): Promise<Buffer> {
  const response = await context.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function put(context: NaiveContext, key: string, body: Buffer, contentType: string): Promise<void> {
  await context.s3.send(new PutObjectCommand({ Bucket: context.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }));
}

/** The naive code opens every encoded image it reads here, so its decodes are counted where they happen. */
function decode(context: NaiveContext, bytes: Buffer, isOriginal: boolean): Sharp {
  context.decodes.total += 1;
  if (isOriginal) context.decodes.original += 1;
  return sharp(bytes);
}

/** One "Lambda invocation": its wall time is what AWS would bill. */
async function invoke<T>(context: NaiveContext, role: LambdaRole, input: unknown, work: () => Promise<T>): Promise<T> {
  context.payloads.push(input);
  const started = performance.now();
  const output = await work();
  context.lambda.push({ role, ms: performance.now() - started });
  context.payloads.push(output);
  return output;
}

function encodeAs(pipeline: Sharp, format: string, recipe: Recipe): Sharp {
  const { avif, webp, jpeg, png } = recipe.encoding;
  if (format === 'avif') return pipeline.avif({ quality: fixedQuality(recipe.encoding, 'avif'), effort: avif.effort, chromaSubsampling: avif.chromaSubsampling });
  if (format === 'webp') return pipeline.webp({ quality: fixedQuality(recipe.encoding, 'webp'), effort: webp.effort });
  if (format === 'jpeg') return pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: fixedQuality(recipe.encoding, 'jpeg'), progressive: jpeg.progressive, mozjpeg: jpeg.mozjpeg });
  return pipeline.png({ compressionLevel: png.compressionLevel });
}

/** The naive workflow for one original already in S3. Exported for the tests. */
export async function naivePipeline(context: NaiveContext): Promise<OutputFile[]> {
  const { recipe, original, prefix } = context;
  const event = { bucket: original.bucket, key: original.key };
  const validated = await invoke(context, 'validate', event, async () => {
    const bytes = await get(context, original.bucket, original.key);
    const { info } = await decode(context, bytes, true).rotate().raw().toBuffer({ resolveWithObject: true });
    return { ...event, width: info.width, height: info.height };
  });

  const resized = await Promise.all(
    recipe.renditions.map((rendition) =>
      invoke(context, 'resize', { ...validated, rendition: rendition.name }, async () => {
        const bytes = await get(context, original.bucket, original.key);
        const jpeg = await decode(context, bytes, true)
          .rotate()
          .resize({ width: rendition.width, height: rendition.height, fit: 'inside', withoutEnlargement: true })
          .flatten({ background: '#ffffff' })
          .jpeg({ quality: 95 })
          .toBuffer();
        const key = `${prefix}/resized/${rendition.name}.jpg`;
        await put(context, key, jpeg, 'image/jpeg');
        return { rendition: rendition.name, key };
      }),
    ),
  );
  context.payloads.push({ ...validated, resized });

  const filtered = await Promise.all(
    resized.map((step) =>
      invoke(context, 'filter', step, async () => {
        const bytes = await get(context, context.bucket, step.key);
        // The default recipe has no filters: the step still decodes and re-encodes, as the tutorial's does.
        const jpeg = await decode(context, bytes, false).jpeg({ quality: 95 }).toBuffer();
        const key = `${prefix}/filtered/${step.rendition}.jpg`;
        await put(context, key, jpeg, 'image/jpeg');
        return { rendition: step.rendition, key };
      }),
    ),
  );
  context.payloads.push({ ...validated, resized, filtered });

  const outputs = await Promise.all(
    filtered.flatMap((step) => {
      const rendition = recipe.renditions.find((each) => each.name === step.rendition);
      return (rendition?.formats ?? recipe.formats).map((format) =>
        invoke(context, 'optimize', { ...step, format }, async (): Promise<OutputFile> => {
          const bytes = await get(context, context.bucket, step.key);
          const { data, info } = await encodeAs(decode(context, bytes, false), format, recipe).toBuffer({ resolveWithObject: true });
          const key = `${prefix}/out/${step.rendition}.${EXTENSIONS[format] ?? format}`;
          await put(context, key, data, `image/${format}`);
          return { rendition: step.rendition, format, width: info.width, height: info.height, bytes: data.length, data };
        }),
      );
    }),
  );
  const summary = { ...validated, outputs: outputs.map(({ data: _data, ...output }) => output) };
  context.payloads.push(summary);
  return outputs;
}

export class NaiveVariant implements Variant {
  readonly name = 'naive' as const;
  readonly cpuMethod =
    'process.cpuUsage() delta of the worker process around the run: the naive functions and their SDK clients. The emulators run in a child process; their CPU is reported apart';
  readonly rssMethod = 'max RSS of the worker process (getrusage): the naive functions, not the emulators';
  private readonly requests = new RequestCounter();
  private readonly uploader: S3Client;

  private constructor(
    readonly stack: LocalStack,
    private readonly recipe: Recipe,
    private readonly topicArn: string,
    private readonly emulators: EmulatorProcess,
  ) {
    this.requests.attach('s3', stack.clients.s3);
    this.requests.attach('sns', stack.clients.sns);
    this.uploader = benchS3Client(stack);
  }

  /** Its own LocalStack: the same emulators imgflow runs on (only S3 and SNS are used). */
  static async start(recipe: Recipe): Promise<NaiveVariant> {
    const emulators = await spawnEmulators();
    const stack = await LocalStack.start({ recipe, emulators });
    return new NaiveVariant(stack, recipe, stack.config.successTopicArn, emulators);
  }

  async run(request: RunRequest): Promise<RunResult> {
    const input = await readFile(request.image.path);
    const key = benchKey(request, 'naive-uploads');
    await this.uploader.send(new PutObjectCommand({ Bucket: this.stack.uploadBucket, Key: key, Body: input, ContentLength: input.length }));
    const context: NaiveContext = {
      s3: this.stack.clients.s3,
      bucket: this.stack.config.outputBucket,
      original: { bucket: this.stack.uploadBucket, key },
      prefix: benchKey(request, 'naive'),
      recipe: this.recipe,
      lambda: [],
      decodes: { original: 0, total: 0 },
      payloads: [],
    };
    this.requests.reset(context.original, { bucket: context.bucket, prefix: `${context.prefix}/out/` });
    const cpu = process.cpuUsage();
    const serviceCpu = processCpuMs(this.emulators.pid);
    const started = performance.now();
    const outputs = await naivePipeline(context);
    await invoke(context, 'notify', { outputs: outputs.length }, async () => {
      await this.stack.clients.sns.send(new PublishCommand({ TopicArn: this.topicArn, Message: JSON.stringify({ key, outputs: outputs.length }) }));
      return { notified: true };
    });
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const serviceCpuAfter = processCpuMs(this.emulators.pid);
    const model = naiveModel(this.recipe.renditions.length, outputs.length);
    const counters = {
      originalDecodes: context.decodes.original,
      totalDecodes: context.decodes.total,
      s3: { ...this.requests.s3 },
      invocations: model.invocations,
      lambdaInvocations: context.lambda.length,
      transitions: model.transitions,
      // The state would carry references and facts, never the bytes the functions return to the bench.
      maxPayloadBytes: Math.max(...context.payloads.map((payload) => Buffer.byteLength(JSON.stringify(payload, (name, value) => (name === 'data' ? undefined : value))))),
      requests: { ...this.requests.requests },
    };
    const written = [
      ...this.recipe.renditions.flatMap((rendition) => [`${context.prefix}/resized/${rendition.name}.jpg`, `${context.prefix}/filtered/${rendition.name}.jpg`]),
      ...outputs.map((output) => `${context.prefix}/out/${output.rendition}.${EXTENSIONS[output.format] ?? output.format}`),
    ];
    await deleteObjects(this.uploader, context.bucket, written);
    await deleteObjects(this.uploader, this.stack.uploadBucket, [key]);
    return {
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      ...(serviceCpu !== undefined && serviceCpuAfter !== undefined ? { serviceCpuMs: serviceCpuAfter - serviceCpu } : {}),
      counters,
      outputs: request.keepOutputs ? outputs : outputs.map(({ data: _data, ...output }) => output),
      lambda: context.lambda,
      workflowMs: wallMs,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }

  async close(): Promise<void> {
    this.uploader.destroy();
    await this.stack.stop();
  }
}
