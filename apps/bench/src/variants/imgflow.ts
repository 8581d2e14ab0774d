import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DeleteObjectsCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { Recipe } from '@imgflow/image-core';
import { type EmulatorProcess, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, LocalStack, spawnEmulators } from '@imgflow/local-runtime';
import { type Job, type OptimizeResult, contentClaimKey, jobIdFor, jobsTableDefinition, objectCreatedFromRecord } from '@imgflow/pipeline';
import { RequestCounter, type SharpDecodeCounter } from '../counters.js';
import { DynamoMeter } from '../dynamodb.js';
import { InvocationMeter } from '../invocations.js';
import { processCpuMs } from '../proc.js';
import type { BenchImage } from '../corpus.js';
import type { LambdaRole, OutputFile, RunRequest, RunResult, Variant } from './types.js';

/** Task state → the Lambda function it invokes (its memory size comes from the Terraform defaults). */
export const IMGFLOW_ROLES: Record<string, LambdaRole> = {
  ValidateImage: 'validate',
  ResizeImage: 'resize',
  ApplyFilters: 'filter',
  OptimizeImage: 'optimize',
  NotifySuccess: 'notify',
  NotifyError: 'notify',
};

function roleOf(state: string): LambdaRole {
  const role = IMGFLOW_ROLES[state];
  if (!role) throw new Error(`The Task state ${state} invokes no function the cost model knows`);
  return role;
}

export const MEDIA_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** A client of the emulators the handlers do not use, so the bench's own reads and clean-up are never counted. */
export function benchS3Client(stack: LocalStack): S3Client {
  return new S3Client({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: stack.emulators.endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

export async function deleteObjects(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
}

export function benchKey(request: { image: BenchImage; runId: string }, prefix: string): string {
  return `${prefix}/${request.runId}/${request.image.name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * imgflow as it runs with `imgflow run`: the emulators, the rendered ASL on
 * aws-local-stepfunctions and the real handlers (LocalStack). The original is uploaded with
 * the stack's own uploader client (not counted), then the workflow runs for its Object
 * Created event. Counters come from the ExecutionReport and from middleware on the handlers'
 * clients; each handler's duration and CPU from InvocationMeter, around the handler itself.
 */
export class ImgflowVariant implements Variant {
  readonly name = 'imgflow' as const;
  readonly cpuMethod =
    'process.cpuUsage() delta of the worker process around the execution: the handlers, their SDK clients and the ASL engine. Of it, handler CPU (what Lambda bills) is the CPU while a handler ran, read at every handler start and end (InvocationMeter; shared equally while the Parallel state runs two), and engine CPU the rest (Step Functions on AWS). The emulators run in a child process; their CPU is reported apart (emulators CPU ms/img), as S3 and DynamoDB work is not in a Lambda bill';
  readonly rssMethod = 'max RSS of the worker process (getrusage): handlers and ASL engine, not the emulators';
  private readonly requests = new RequestCounter();
  /** DynamoDB request units of the ledger calls, index writes included (the table definition the functions run on). */
  private readonly dynamo: DynamoMeter;
  private readonly s3: S3Client;
  /** Each handler invocation's CPU and duration, the engine's CPU apart. */
  private readonly meter = new InvocationMeter();

  private constructor(
    readonly stack: LocalStack,
    private readonly decodes: SharpDecodeCounter,
    private readonly emulators: EmulatorProcess,
  ) {
    // Each function has its own clients (its IAM role applies to them): count them all.
    for (const clients of Object.values(stack.stepClients)) {
      this.requests.attach('s3', clients.s3);
      this.requests.attach('dynamodb', clients.dynamo);
      this.requests.attach('sns', clients.sns);
    }
    this.dynamo = new DynamoMeter(jobsTableDefinition(stack.config.jobsTable));
    for (const clients of Object.values(stack.stepClients)) this.dynamo.attach(clients.dynamo);
    this.s3 = benchS3Client(stack);
    this.meter.attach(stack.faults);
  }

  static async start(recipe: Recipe, decodes: SharpDecodeCounter): Promise<ImgflowVariant> {
    const emulators = await spawnEmulators();
    // In-process: the decode counter, CPU and request counters see the handlers' work.
    return new ImgflowVariant(await LocalStack.start({ recipe, emulators, inProcess: true }), decodes, emulators);
  }

  async run(request: RunRequest): Promise<RunResult> {
    const input = await readFile(request.image.path);
    const key = benchKey(request, 'bench');
    const ref = await this.stack.upload(key, input, MEDIA_TYPES[request.image.format] ?? 'application/octet-stream');
    const event = objectCreatedFromRecord(
      { eventName: 'ObjectCreated:Put', eventTime: new Date().toISOString(), s3: { bucket: { name: ref.bucket }, object: { key, size: ref.size, eTag: ref.etag } } },
      LOCAL_ACCOUNT,
    );
    if (!event) throw new Error('Could not build the Object Created event');

    this.requests.reset({ bucket: ref.bucket, key }, { bucket: this.stack.config.outputBucket, prefix: this.stack.config.outputPrefix });
    this.dynamo.reset();
    this.decodes.reset(input);
    const cpu = process.cpuUsage();
    const serviceCpu = processCpuMs(this.emulators.pid);
    const started = performance.now();
    this.meter.reset();
    const report = await this.stack.execute(event);
    const profile = this.meter.finish();
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const serviceCpuAfter = processCpuMs(this.emulators.pid);
    const counters = {
      originalDecodes: this.decodes.originalDecodes,
      totalDecodes: this.decodes.totalDecodes,
      s3: { ...this.requests.s3 },
      invocations: { ...report.invocations },
      lambdaInvocations: Object.values(report.invocations).reduce((sum, count) => sum + count, 0),
      transitions: report.transitions,
      maxPayloadBytes: report.maxPayloadBytes,
      requests: { ...this.requests.requests },
      dynamodb: structuredClone(this.dynamo.units),
    };

    const state = report.output as { outcome?: string; job?: Job; optimized?: OptimizeResult } | undefined;
    if (report.status !== 'SUCCEEDED' || state?.outcome !== 'valid' || !state.optimized) {
      throw new Error(`imgflow did not process ${request.image.name}: ${report.status} ${state?.outcome ?? ''} ${report.error?.cause ?? ''}`.trim());
    }
    const outputs: OutputFile[] = [];
    for (const output of state.optimized.outputs) {
      const data = request.keepOutputs ? await readObject(this.s3, this.stack.config.outputBucket, output.key) : undefined;
      outputs.push({ rendition: output.rendition, format: output.format, width: output.width, height: output.height, bytes: output.bytes, ...(data ? { data } : {}) });
    }
    // Later repetitions of the same bytes must do the work again, not hit the content cache:
    // the job's ledger entry and its content claim go, with the run's objects (the bench's own client, not counted).
    await this.stack.clients.dynamo.send(new DeleteCommand({ TableName: this.stack.config.jobsTable, Key: { jobId: jobIdFor(ref) } }));
    if (state.job) {
      await this.stack.clients.dynamo.send(new DeleteCommand({ TableName: this.stack.config.jobsTable, Key: { jobId: contentClaimKey(state.job.sha256, state.job.recipe) } }));
    }
    await deleteObjects(this.s3, this.stack.config.outputBucket, state.optimized.outputs.map((output) => output.key));
    await deleteObjects(this.s3, ref.bucket, [key]);
    return {
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      handlerCpuMs: profile.handlerCpuMs,
      // The meter's engine share stops at the execution's end; the whole-process figure closes at the same moment.
      engineCpuMs: (used.user + used.system) / 1000 - profile.handlerCpuMs,
      overlapCpuMs: profile.overlapCpuMs,
      ...(serviceCpu !== undefined && serviceCpuAfter !== undefined ? { serviceCpuMs: serviceCpuAfter - serviceCpu } : {}),
      counters,
      outputs,
      lambda: profile.invocations.map((call) => ({ role: roleOf(call.state), state: call.state, ms: call.ms, cpuMs: call.cpuMs })),
      workflowMs: wallMs,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }

  async close(): Promise<void> {
    this.s3.destroy();
    await this.stack.stop();
  }
}
