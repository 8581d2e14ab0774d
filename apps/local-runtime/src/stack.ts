import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { createFilterHandler } from '@imgflow/fn-filter';
import { createNotifyHandler } from '@imgflow/fn-notify';
import { createOptimizeHandler } from '@imgflow/fn-optimize';
import { createResizeHandler } from '@imgflow/fn-resize';
import { createValidateHandler } from '@imgflow/fn-validate';
import { DEFAULT_RECIPE, type ImageLimitsInput, type Recipe, resolveLimits } from '@imgflow/image-core';
import {
  type AwsClients,
  type JobNotification,
  type ObjectCreatedEvent,
  type ObjectRef,
  type PipelineConfig,
  type S3NotificationRecord,
  type StepDeps,
  type JobLedger,
  createClients,
  createDeps,
  destroyClients,
  TERMINAL_STATUSES,
  jobsTableDefinition,
  notificationFromRecord,
  objectCreatedFromRecord,
} from '@imgflow/pipeline';
import { type AslDefinition, type AslVariables, localAslVariables, renderDefinition, taskStates } from './asl.js';
import { type Emulators, LOCAL_CREDENTIALS, startEmulators } from './emulators.js';
import { FaultInjector } from './faults.js';
import { type ExecutionListener, type ExecutionReport, WorkflowRunner } from './runner.js';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalStackOptions {
  /** Persist S3 objects and the ledger here (e.g. .imgflow). Absent: temporary, removed on stop. */
  dataDir?: string;
  /** Fixed loopback ports for `imgflow dev`; absent: free ports. */
  ports?: { s3?: number; dynamodb?: number; sns?: number };
  recipe?: Recipe;
  limits?: ImageLimitsInput;
  /** Retry settings rendered into the ASL, as Terraform would. */
  retry?: Partial<Pick<AslVariables, 'retry_interval_seconds' | 'retry_max_attempts' | 'retry_backoff_rate' | 'retry_max_delay_seconds'>>;
  /** Shortens every Retry pause to this many milliseconds (tests); the ASL's own intervals otherwise. */
  retryPauseMs?: number;
  leaseSeconds?: number;
  /** Lambda timeouts (seconds) by function name (`imgflow-resize`, …); defaults as deployed. */
  timeouts?: Record<string, number>;
  /**
   * Emulators already running (e.g. in another process: `spawnEmulators`), instead of starting
   * them in this one. The trigger needs the in-process S3 emulator; `execute()` works either way.
   */
  emulators?: Emulators;
  /** Handler logs (Powertools): SILENT by default locally. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

export const UPLOAD_BUCKET = 'imgflow-uploads';
export const OUTPUT_BUCKET = 'imgflow-outputs';
export const JOBS_TABLE = 'imgflow-jobs';
/** The buckets the emulators must have. */
export const EMULATOR_BUCKETS = [UPLOAD_BUCKET, OUTPUT_BUCKET];

/** Lambda timeouts in seconds, as infra/modules/image-pipeline sets them by default. */
export const DEFAULT_TIMEOUTS: Record<string, number> = {
  'imgflow-validate': 30,
  'imgflow-resize': 120,
  'imgflow-filter': 120,
  'imgflow-optimize': 300,
  'imgflow-notify': 30,
};

/**
 * What Lambda does to an invocation that outlives its timeout: the invocation fails with
 * `Sandbox.Timedout`. (Locally the handler's promise is abandoned, not killed.)
 */
export function withTimeout<T>(seconds: number, run: () => Promise<T>, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(Object.assign(new Error(`Task timed out after ${seconds.toFixed(2)} seconds`), { name: 'Sandbox.Timedout' }));
    }, seconds * 1000);
    timer.unref();
  });
  return Promise.race([run(), timeout]).finally(() => clearTimeout(timer));
}

/**
 * The deps of one invocation. Lambda stops a timed-out invocation with its sandbox; locally its
 * promise runs on, so once `expired()` its every call to S3, DynamoDB or SNS fails instead: an
 * abandoned handler can write nothing after the workflow has moved on (e.g. a work object after
 * NotifyError removed the job's work prefix, or outputs for a job recorded FAILED).
 */
export function invocationDeps(deps: StepDeps, expired: () => boolean): StepDeps {
  const guard = <T extends object>(service: T): T =>
    new Proxy(service, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (expired()) {
            return Promise.reject(Object.assign(new Error('The invocation timed out: its sandbox is gone'), { name: 'Sandbox.Timedout' }));
          }
          return (value as (...parameters: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return { ...deps, storage: guard(deps.storage), ledger: guard(deps.ledger), notifier: guard(deps.notifier) };
}

/** Function names, as in the ARNs of the rendered ASL, mapped to the real handler factories. */
const HANDLER_FACTORIES: Record<string, (getDeps: () => StepDeps) => (input: never) => Promise<unknown>> = {
  'imgflow-validate': createValidateHandler,
  'imgflow-resize': createResizeHandler,
  'imgflow-filter': createFilterHandler,
  'imgflow-optimize': createOptimizeHandler,
  'imgflow-notify': createNotifyHandler,
};

/** Each Task state of the definition mapped, by the function in its Resource ARN, to the real handler. */
export function localHandlers(
  definition: AslDefinition,
  deps: StepDeps,
  faults: FaultInjector,
  timeouts: Record<string, number> = DEFAULT_TIMEOUTS,
): Record<string, (input: unknown) => Promise<unknown>> {
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const { name, resource } of taskStates(definition)) {
    const functionName = resource.split(':').pop() ?? '';
    const factory = HANDLER_FACTORIES[functionName];
    if (!factory) throw new Error(`Task state ${name} invokes ${resource}, which no local handler implements`);
    const seconds = timeouts[functionName] ?? DEFAULT_TIMEOUTS[functionName] ?? 30;
    handlers[name] = (input: unknown) => {
      let expired = false;
      const handler = factory(() => invocationDeps(deps, () => expired));
      return withTimeout(
        seconds,
        () => faults.aroundHandler(name, () => handler(input as never)),
        () => {
          expired = true;
        },
      );
    };
  }
  return handlers;
}

/** Publishes the notification of every finished job that has none yet (see notificationFromRecord). */
async function resendMissedNotifications(deps: StepDeps): Promise<string[]> {
  const resent: string[] = [];
  for (const status of TERMINAL_STATUSES) {
    for (const record of await deps.ledger.listByStatus(status, 1000)) {
      const message = record.notified ? undefined : notificationFromRecord(record);
      if (!message) continue;
      await deps.notifier.publish(status === 'SUCCEEDED' ? deps.config.successTopicArn : deps.config.errorTopicArn, message);
      await deps.ledger.markNotified(record.jobId, record.executionId);
      resent.push(record.jobId);
    }
  }
  return resent;
}

async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateTableCommand(jobsTableDefinition(name)));
  }
}

/**
 * The whole pipeline on one machine: emulators, bucket/table/topics, the rendered ASL and
 * the real handlers. Nothing here re-implements a step: it only wires.
 */
export class LocalStack {
  readonly uploadBucket = UPLOAD_BUCKET;
  /** Jobs of an earlier, interrupted run whose claims were released at start-up. */
  releasedClaims: string[] = [];
  /** Jobs of an earlier run recorded as finished but never notified, notified at start-up. */
  resentNotifications: string[] = [];
  private readonly inFlight = new Set<Promise<ExecutionReport>>();
  private triggerListeners: ExecutionListener[] = [];
  private triggerHandler?: (event: { Records?: S3NotificationRecord[] }) => void;

  private constructor(
    readonly emulators: Emulators,
    readonly clients: AwsClients,
    readonly config: PipelineConfig,
    readonly deps: StepDeps,
    readonly definition: AslDefinition,
    readonly runner: WorkflowRunner,
    /** Inject failures into handlers and S3 calls (tests, the reliability report). */
    readonly faults: FaultInjector,
    readonly sqs: SQSClient,
    readonly queues: { success: string; error: string },
    /** The uploader's own S3 client: faults injected into the handlers' client do not hit uploads. */
    private readonly uploader: S3Client,
  ) {}

  static async start(options: LocalStackOptions = {}): Promise<LocalStack> {
    const emulators: Emulators = options.emulators ?? (await startEmulators({
      buckets: EMULATOR_BUCKETS,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.ports ? { ports: options.ports } : {}),
    }));
    try {
      const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
      const clients = createClients({ ...common, endpoints: emulators.endpoints, maxAttempts: 1 });
      const dynamo = new DynamoDBClient({ ...common, endpoint: emulators.endpoints.dynamodb });
      await ensureTable(dynamo, JOBS_TABLE);
      dynamo.destroy();
      const sns = new SNSClient({ ...common, endpoint: emulators.endpoints.sns });
      const sqs = new SQSClient({ ...common, endpoint: emulators.endpoints.sqs });
      const topic = async (name: string) => {
        const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-inbox` }));
        const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
        return { arn: TopicArn as string, queue: QueueUrl as string };
      };
      const success = await topic('imgflow-success');
      const failure = await topic('imgflow-error');
      sns.destroy();

      const config: PipelineConfig = {
        outputBucket: OUTPUT_BUCKET,
        outputPrefix: 'renditions/',
        workPrefix: 'work/',
        assetsPrefix: 'assets/',
        jobsTable: JOBS_TABLE,
        successTopicArn: success.arn,
        errorTopicArn: failure.arn,
        recipe: options.recipe ?? DEFAULT_RECIPE,
        limits: resolveLimits(options.limits ?? {}),
        leaseSeconds: options.leaseSeconds ?? 900,
        cacheControl: 'public, max-age=31536000, immutable',
      };
      const deps = createDeps(config, clients, new Logger({ serviceName: 'imgflow-local', logLevel: options.logLevel ?? 'SILENT' }));
      const definition = await renderDefinition(localAslVariables(options.retry ?? {}));
      const faults = new FaultInjector();
      faults.attachTo(clients);
      const runner = new WorkflowRunner(definition, localHandlers(definition, deps, faults, { ...DEFAULT_TIMEOUTS, ...options.timeouts }), {
        region: LOCAL_REGION,
        account: LOCAL_ACCOUNT,
        ...(options.retryPauseMs !== undefined ? { retryPauseMs: options.retryPauseMs } : {}),
      });
      // A persistent data folder may hold jobs of a run that was killed: nothing of it is alive
      // now (this process owns the folder), so their claims are released for a re-run to take.
      const released = options.dataDir ? await deps.ledger.releaseClaims(new Date()) : [];
      // A run killed between recording a job's outcome and publishing it left a job that no
      // re-run will notify (it is not a claim to take over): its notification is sent now.
      const resent = options.dataDir ? await resendMissedNotifications(deps) : [];
      const uploader = createClients({ ...common, endpoints: emulators.endpoints }).s3;
      const stack = new LocalStack(emulators, clients, config, deps, definition, runner, faults, sqs, { success: success.queue, error: failure.queue }, uploader);
      stack.releasedClaims = released;
      stack.resentNotifications = resent;
      return stack;
    } catch (error) {
      await emulators.stop();
      throw error;
    }
  }

  get ledger(): JobLedger {
    return this.deps.ledger;
  }

  /** Runs the workflow for one Object Created event, as EventBridge would start it. */
  execute(event: ObjectCreatedEvent, listener?: ExecutionListener): Promise<ExecutionReport> {
    const run = this.runner.execute(event, listener);
    this.inFlight.add(run);
    run.finally(() => this.inFlight.delete(run)).catch(() => undefined);
    return run;
  }

  /**
   * Starts an execution for every object created in the upload bucket, through the same
   * conversion EventBridge does (S3 record → Object Created event). Outputs go to another
   * bucket, so they never re-trigger.
   */
  enableTrigger(listener?: ExecutionListener): void {
    if (listener) this.triggerListeners.push(listener);
    if (this.triggerHandler) return;
    this.triggerHandler = (notification) => {
      for (const record of notification.Records ?? []) {
        if (record.s3.bucket.name !== this.uploadBucket) continue;
        const event = objectCreatedFromRecord(record, LOCAL_ACCOUNT);
        if (!event) continue;
        this.execute(event, (update) => {
          for (const each of this.triggerListeners) each(update);
        }).catch(() => undefined);
      }
    };
    if (!this.emulators.s3rver) throw new Error('The trigger needs the S3 emulator in this process; with emulators elsewhere, call execute()');
    this.emulators.s3rver.on('event', this.triggerHandler);
  }

  /**
   * Puts an object into the upload bucket: with the trigger enabled, that starts a workflow.
   * Returns the object's identity; `jobIdFor()` of it is the job id the workflow will use.
   */
  async upload(key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<ObjectRef> {
    const response = await this.uploader.send(new PutObjectCommand({ Bucket: this.uploadBucket, Key: key, Body: body, ContentType: contentType }));
    return { bucket: this.uploadBucket, key, etag: (response.ETag ?? '').replace(/"/g, ''), size: body.length };
  }

  /** Resolves when every execution started so far has finished. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Reads (and removes) the notifications published so far, success and error. */
  async drainNotifications(): Promise<JobNotification[]> {
    const messages: JobNotification[] = [];
    for (const queue of [this.queues.success, this.queues.error]) {
      for (;;) {
        const { Messages = [] } = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const envelope = JSON.parse(message.Body ?? '{}') as { Message?: string };
          messages.push(JSON.parse(envelope.Message ?? '{}') as JobNotification);
        }
        await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
      }
    }
    return messages;
  }

  async stop(): Promise<void> {
    if (this.triggerHandler) this.emulators.s3rver?.off('event', this.triggerHandler);
    await this.whenIdle();
    destroyClients(this.clients);
    this.uploader.destroy();
    this.sqs.destroy();
    await this.emulators.stop();
  }
}
