import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetBucketVersioningCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { type StepName, STEP_NAMES, type WorkflowType, contract, functionName, step, stepOfFunction } from '@imgflow/contract';
import type { SweepOptions, SweepSummary } from '@imgflow/fn-sweep';
import { createFilterHandler } from '@imgflow/fn-filter';
import { createNotifyHandler } from '@imgflow/fn-notify';
import { createOptimizeHandler } from '@imgflow/fn-optimize';
import { createResizeHandler } from '@imgflow/fn-resize';
import { createValidateHandler } from '@imgflow/fn-validate';
import type { ImageLimitsInput, Recipe, RecipeInput } from '@imgflow/image-core';
import {
  type AwsClients,
  type JobNotification,
  type ObjectCreatedEvent,
  type ObjectRef,
  type PipelineConfig,
  ConfigurationError,
  configFromEnv,
  type S3NotificationRecord,
  type StepDeps,
  type JobLedger,
  createClients,
  createDeps,
  destroyClients,
  ensureJobsTable,
  objectCreatedFromRecord,
  type EventBridgeKeys,
  encodeEventKey,
} from '@imgflow/pipeline';
import { type AslDefinition, LOCAL_ACCOUNT, LOCAL_DEPLOYMENT, LOCAL_REGION, type RetrySettings, localAslVariables, renderDefinition, taskStates } from './asl.js';
import { type Emulators, LOCAL_CREDENTIALS, startEmulators } from './emulators.js';
import { FaultInjector } from './faults.js';
import { type DeadLetter, IamEnforcer, type PolicyRemovals, attachIam, authorizeInvoke, authorizeStartExecution, objectTagReader } from './iam/index.js';
import { LambdaSandbox, type LambdaFunctionSpec, withTimeout } from './lambda/index.js';
import { type ExecuteOptions, type ExecutionListener, type ExecutionReport, WorkflowRunner } from './runner.js';
import { type SweepSchedule, runSweep, scheduleMillis, startSchedule } from './sweeper.js';

// The sandbox the functions run in, part of the stack's API (`functions`).
export * from './lambda/index.js';

export interface LocalStackOptions {
  /** Persist S3 objects and the ledger here (e.g. .imgflow). Absent: temporary, removed on stop. */
  dataDir?: string;
  /** Fixed loopback ports for `imgflow dev`; absent: free ports. */
  ports?: { s3?: number; dynamodb?: number; sns?: number };
  /** The recipe as a deployment's recipe_json holds it (what IMGFLOW_RECIPE carries); the functions' default recipe when absent. */
  recipe?: RecipeInput | Recipe;
  limits?: ImageLimitsInput;
  /** Retry settings rendered into the ASL, as Terraform would (the workflow module's `retry`); the contract's otherwise. */
  retry?: Partial<RetrySettings>;
  /** Shortens every Retry pause to this many milliseconds (tests); the ASL's own intervals otherwise. */
  retryPauseMs?: number;
  /** The workflow type (the workflow module's `type`): its time limit is enforced; the contract's default (EXPRESS) otherwise. */
  workflowType?: WorkflowType;
  /** The workflow type's time limit scaled down to this many milliseconds (tests); uncatchable, as on AWS. */
  maxDurationMs?: number;
  leaseSeconds?: number;
  /** Lambda timeouts (seconds) by function name (`imgflow-resize`, …); the contract's defaults otherwise. */
  timeouts?: Record<string, number>;
  /**
   * Runs the handlers in this process over `stepDeps` instead of in their Lambda sandboxes: for
   * measurements that need everything in one process (the bench's decode counter, CPU and
   * request counters). No memory or concurrency limit applies then; the timeout abandons the
   * invocation (invocationDeps). Not for tests of behaviour: those run as Lambda runs.
   */
  inProcess?: boolean;
  /** Lambda memory (MB) by function name, enforced in each function's sandbox; the contract's `memory_mb` otherwise. */
  memory?: Record<string, number>;
  /**
   * Reserved concurrency by function name (the functions module's `reserved_concurrency`):
   * an invocation beyond it fails `Lambda.TooManyRequestsException`. Unreserved otherwise.
   */
  concurrency?: Record<string, number>;
  /**
   * Emulators already running (e.g. in another process: `spawnEmulators`), instead of starting
   * them in this one. The trigger needs the in-process S3 emulator; `execute()` works either way.
   */
  emulators?: Emulators;
  /** Handler logs (Powertools): SILENT by default locally. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /**
   * Versioning of the upload bucket, as the storage module's `upload_versioning` (default
   * Enabled, as deployed): uploads get version ids, events carry them, the job id includes them.
   * 'Disabled' runs unversioned (a bucket once versioned can only be suspended, as on S3).
   */
  uploadVersioning?: UploadVersioning;
  /**
   * How the local trigger writes the key into the EventBridge event: 'decoded' (default), or
   * 'encoded' as in the S3 notification record (AWS does not document which EventBridge does;
   * the pipeline resolves either).
   */
  eventBridgeKeys?: EventBridgeKeys;
  /**
   * IAM is always enforced, with the policies Terraform renders (src/iam/rendered-policies.json).
   * `remove` takes statements (by Sid) out of a role's policy, to see what a missing permission
   * does, e.g. `{ remove: { validate: ['ClaimJobs'] } }`.
   */
  iam?: { remove?: PolicyRemovals };
}

/*
 * The names image-pipeline gives its resources for name = "imgflow" in us-east-1 of account
 * 000000000000 (tests/iam.test.ts compares them with Terraform's rendering), so that the rendered
 * policies apply to the local resources as they are.
 */
export const UPLOAD_BUCKET = `${LOCAL_DEPLOYMENT}-uploads-${LOCAL_ACCOUNT}-${LOCAL_REGION}`;
export const OUTPUT_BUCKET = `${LOCAL_DEPLOYMENT}-outputs-${LOCAL_ACCOUNT}-${LOCAL_REGION}`;
export const JOBS_TABLE = `${LOCAL_DEPLOYMENT}-jobs`;
/** The notifications module's topics: <name>-success and <name>-error. */
export const SUCCESS_TOPIC = `${LOCAL_DEPLOYMENT}-success`;
export const ERROR_TOPIC = `${LOCAL_DEPLOYMENT}-error`;
export const STATE_MACHINE_NAME = LOCAL_DEPLOYMENT;
export const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
/** The trigger module's rule (<name>-upload), whose role starts executions. */
export const TRIGGER_RULE_ARN = `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${LOCAL_DEPLOYMENT}-upload`;
/** The buckets the emulators must have. */
export const EMULATOR_BUCKETS = [UPLOAD_BUCKET, OUTPUT_BUCKET];

export function topicArn(name: string): string {
  return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
}

export type UploadVersioning = 'Enabled' | 'Suspended' | 'Disabled';

/** Sets a bucket's versioning through the S3 API, as Terraform's aws_s3_bucket_versioning does. */
async function setVersioning(s3: S3Client, bucket: string, versioning: UploadVersioning): Promise<void> {
  if (versioning === 'Disabled') {
    // S3 cannot turn versioning off once it was on: suspending it is the closest.
    const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    if (Status === undefined) return;
  }
  const status = versioning === 'Enabled' ? 'Enabled' : 'Suspended';
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
}

/** Lambda timeouts in seconds by function name, as deployed by default (the contract's). */
export function defaultTimeouts(): Record<string, number> {
  return Object.fromEntries(STEP_NAMES.map((name) => [functionName(LOCAL_DEPLOYMENT, name), step(name).timeout_seconds]));
}

/**
 * The IMGFLOW_* environment the functions module sets on every function
 * (infra/modules/functions/locals.tf): what is not given keeps configFromEnv's defaults, the
 * contract's, exactly as a deployment that leaves those inputs unset.
 */
export function localEnvironment(settings: {
  outputBucket: string;
  jobsTable: string;
  successTopicArn: string;
  errorTopicArn: string;
  recipe?: RecipeInput | Recipe;
  limits?: ImageLimitsInput;
  leaseSeconds?: number;
}): Record<string, string> {
  const environment: Record<string, string> = {
    IMGFLOW_OUTPUT_BUCKET: settings.outputBucket,
    IMGFLOW_JOBS_TABLE: settings.jobsTable,
    IMGFLOW_SUCCESS_TOPIC_ARN: settings.successTopicArn,
    IMGFLOW_ERROR_TOPIC_ARN: settings.errorTopicArn,
    IMGFLOW_LIMITS: JSON.stringify(settings.limits ?? {}),
    ...(settings.recipe ? { IMGFLOW_RECIPE: JSON.stringify(settings.recipe) } : {}),
    ...(settings.leaseSeconds !== undefined ? { IMGFLOW_LEASE_SECONDS: String(settings.leaseSeconds) } : {}),
  };
  checkEnvironmentSize(environment);
  return environment;
}

/**
 * What the functions module's preconditions refuse at plan time, refused here too: the recipe and
 * limits JSON must fit the share of Lambda's 4 KB environment the contract leaves them.
 */
export function checkEnvironmentSize(environment: Record<string, string>): void {
  const { environment_max_bytes: max, environment_reserved_bytes: reserved } = contract.lambda;
  const json = ['IMGFLOW_RECIPE', 'IMGFLOW_LIMITS'].reduce((total, name) => total + (environment[name] === undefined ? 0 : name.length + Buffer.byteLength(environment[name] as string)), 0);
  if (json > max - reserved) {
    throw new ConfigurationError(
      `The recipe and limits JSON take ${json} bytes of the Lambda environment; at most ${max - reserved} fit beside the other IMGFLOW_* settings (Lambda allows ${max} bytes in all). Remove renditions or filters, or shorten names in the recipe: this configuration would not deploy.`,
    );
  }
  const total = Object.entries(environment).reduce((sum, [name, value]) => sum + name.length + Buffer.byteLength(value), 0);
  if (total > max) throw new ConfigurationError(`The Lambda environment would take ${total} bytes; Lambda allows ${max}: this configuration would not deploy.`);
}

/**
 * What Lambda's runtime adds to a function's environment, pointed at the emulators: region and
 * credentials as the execution role's, the SDK's service-specific endpoint variables, the log
 * level Powertools reads, UTC as Lambda's TZ.
 */
export function lambdaRuntimeEnvironment(emulators: Emulators, logLevel: NonNullable<LocalStackOptions['logLevel']>): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SNS: emulators.endpoints.sns,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: logLevel,
    TZ: ':UTC',
  };
}

/**
 * The deps of one in-process invocation (localHandlers without sandboxes): once `expired()`, its
 * every call to S3, DynamoDB or SNS fails, so that an abandoned handler can write nothing after
 * the workflow has moved on. The stack's functions run in sandboxes instead, killed at their
 * timeout (src/lambda).
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

/** Each step of the contract bound to its real handler factory (the type makes the list complete). */
const HANDLERS: Record<StepName, (getDeps: () => StepDeps) => (input: never) => Promise<unknown>> = {
  validate: createValidateHandler,
  resize: createResizeHandler,
  filter: createFilterHandler,
  optimize: createOptimizeHandler,
  notify: createNotifyHandler,
};

/** The factory's export name in the step's package (contract `package`): a sandbox imports it by name. */
const HANDLER_FACTORIES: Record<StepName, string> = {
  validate: 'createValidateHandler',
  resize: 'createResizeHandler',
  filter: 'createFilterHandler',
  optimize: 'createOptimizeHandler',
  notify: 'createNotifyHandler',
};

/** The handlers' deps: each function's own (its clients carry its role), or one set for all. */
export type HandlerDeps = StepDeps | Record<StepName, StepDeps>;

/** Each step's function in its Lambda sandbox: what the stack runs. */
export type StepSandboxes = Record<StepName, LambdaSandbox>;

function isSandboxes(functions: HandlerDeps | StepSandboxes): functions is StepSandboxes {
  return functions !== undefined && !('config' in functions) && Object.values(functions).every((each) => each instanceof LambdaSandbox);
}

function depsOf(deps: HandlerDeps, stepName: StepName): StepDeps {
  return 'config' in deps ? (deps as StepDeps) : (deps as Record<StepName, StepDeps>)[stepName];
}

/** A step's function as the sandbox runs it: the package and factory of the contract's step, the step's role. */
export function stepFunction(
  stepName: StepName,
  settings: { environment: Record<string, string>; timeouts?: Record<string, number>; memory?: Record<string, number>; concurrency?: Record<string, number> },
): LambdaFunctionSpec {
  const name = functionName(LOCAL_DEPLOYMENT, stepName);
  const memoryMb = settings.memory?.[name] ?? step(stepName).memory_mb;
  const concurrency = settings.concurrency?.[name];
  return {
    functionName: name,
    package: step(stepName).package,
    factory: HANDLER_FACTORIES[stepName],
    role: stepName,
    memoryMb,
    timeoutSeconds: settings.timeouts?.[name] ?? step(stepName).timeout_seconds,
    ...(concurrency !== undefined ? { concurrency } : {}),
    environment: { ...settings.environment, AWS_LAMBDA_FUNCTION_NAME: name, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb), AWS_LAMBDA_FUNCTION_VERSION: '$LATEST' },
  };
}

/**
 * Each Task state of the definition mapped, by the function in its Resource ARN, to the real
 * handler: in its function's sandbox (what the stack runs), or, given deps, in this process
 * (timed out by abandoning it: see invocationDeps). With `iam`, each invocation is first
 * authorized as Step Functions' role would be.
 */
export function localHandlers(
  definition: AslDefinition,
  functions: HandlerDeps | StepSandboxes,
  faults: FaultInjector,
  timeouts: Record<string, number> = {},
  iam?: IamEnforcer,
): Record<string, (input: unknown) => Promise<unknown>> {
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const { name, resource } of taskStates(definition)) {
    const invoked = resource.split(':').pop() ?? '';
    const stepName = stepOfFunction(LOCAL_DEPLOYMENT, invoked);
    if (!stepName) throw new Error(`Task state ${name} invokes ${resource}, which no local handler implements`);
    if (isSandboxes(functions)) {
      const sandbox = functions[stepName];
      handlers[name] = async (input: unknown) => {
        if (iam) await authorizeInvoke(iam, resource);
        // A state's handler fault happens inside the invocation, before the function runs.
        const result = await sandbox.invoke(input, () => faults.aroundHandler(name, async () => undefined));
        return faults.afterHandler(name, result);
      };
      continue;
    }
    const factory = HANDLERS[stepName];
    const seconds = timeouts[invoked] ?? step(stepName).timeout_seconds;
    handlers[name] = async (input: unknown) => {
      if (iam) await authorizeInvoke(iam, resource);
      let expired = false;
      const handler = factory(() => invocationDeps(depsOf(functions, stepName), () => expired));
      return withTimeout(
        seconds,
        () => faults.aroundHandler(name, async () => faults.afterHandler(name, await handler(input as never))),
        () => {
          expired = true;
        },
      );
    };
  }
  return handlers;
}

/** The jobs table as jobsTableDefinition() has it: created, or migrated from an older data folder's layout. */
async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  await ensureJobsTable(client, name);
}

/**
 * The whole pipeline on one machine: emulators, bucket/table/topics, the rendered ASL and
 * the real handlers. Nothing here re-implements a step: it only wires.
 *
 * Each function runs as Lambda runs it, in its sandbox (`functions`, src/lambda): child processes
 * with the function's environment, memory, timeout and concurrency, and their own SDK clients,
 * every call of which is checked against that function's IAM policy as Terraform renders it
 * (`iam`); invoking a function is checked against the state machine's role, starting an
 * execution against the EventBridge rule's role.
 */
export class LocalStack {
  readonly uploadBucket = UPLOAD_BUCKET;
  /** Jobs of an earlier, interrupted run whose claims were released at start-up. */
  releasedClaims: string[] = [];
  /** Jobs of an earlier run recorded as finished but never notified, notified at start-up. */
  resentNotifications: string[] = [];
  /** The upload bucket's versioning (LocalStackOptions.uploadVersioning). */
  uploadVersioning: UploadVersioning = 'Enabled';
  /** How the trigger writes keys into its EventBridge events (LocalStackOptions.eventBridgeKeys). */
  eventBridgeKeys: EventBridgeKeys = 'decoded';
  /** Upload events that could not start an execution (EventBridge's dead-letter queue). */
  readonly deadLetters: DeadLetter<ObjectCreatedEvent>[] = [];
  private readonly inFlight = new Set<Promise<ExecutionReport>>();
  private readonly schedules: SweepSchedule[] = [];
  private triggerListeners: ExecutionListener[] = [];
  private triggerHandler?: (event: { Records?: S3NotificationRecord[] }) => void;

  private constructor(
    readonly emulators: Emulators,
    /** The runtime's own clients (start-up recovery, tests, the CLI's downloads): no role, no faults. */
    readonly clients: AwsClients,
    readonly config: PipelineConfig,
    /** The runtime's own deps, over `clients`. */
    readonly deps: StepDeps,
    /**
     * Clients (and deps) in this process with each function's role: its policy enforced, the
     * fault injector attached, as in its sandbox (but one attempt per call), to call AWS as that
     * function would (tests). The functions themselves run in `functions`.
     */
    readonly stepClients: Record<StepName, AwsClients>,
    readonly stepDeps: Record<StepName, StepDeps>,
    /**
     * Each function as Lambda runs it (src/lambda): warm child processes with the function's
     * environment, memory, timeout and concurrency, their own clients (their role's policy, the
     * fault injector asked over IPC). The Task states invoke these.
     */
    readonly functions: StepSandboxes,
    readonly definition: AslDefinition,
    readonly runner: WorkflowRunner,
    /** Inject failures into handlers and S3 calls (tests, the reliability report). */
    readonly faults: FaultInjector,
    /** IAM as enforced: `iam.stats()` counts the calls checked and denied, `iam.denials()` lists the refusals. */
    readonly iam: IamEnforcer,
    readonly sqs: SQSClient,
    readonly queues: { success: string; error: string },
    /** The uploader's own S3 client: faults injected into the handlers' client do not hit uploads. */
    private readonly uploader: S3Client,
    /** The sweeper's clients: its role ('sweep') enforced, the fault injector attached. */
    readonly sweepClients: AwsClients,
    readonly sweepDeps: StepDeps,
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
      const stepClients = Object.fromEntries(
        STEP_NAMES.map((name) => [name, createClients({ ...common, endpoints: emulators.endpoints, maxAttempts: 1 })]),
      ) as Record<StepName, AwsClients>;
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
        // The policies name the topics by their AWS ARNs: the emulator's must be the same.
        if (TopicArn !== topicArn(name)) throw new Error(`The SNS emulator named the topic ${name} ${TopicArn}, not ${topicArn(name)}: the IAM policies would not apply`);
        return { arn: TopicArn as string, queue: QueueUrl as string };
      };
      const success = await topic(SUCCESS_TOPIC);
      const failure = await topic(ERROR_TOPIC);
      sns.destroy();

      // The same settings, through the same parser, as a deployed function reads them.
      const environment = localEnvironment({
        outputBucket: OUTPUT_BUCKET,
        jobsTable: JOBS_TABLE,
        successTopicArn: success.arn,
        errorTopicArn: failure.arn,
        ...(options.recipe ? { recipe: options.recipe } : {}),
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.leaseSeconds !== undefined ? { leaseSeconds: options.leaseSeconds } : {}),
      });
      const config = configFromEnv(environment);
      const logger = new Logger({ serviceName: 'imgflow-local', logLevel: options.logLevel ?? 'SILENT' });
      const deps = createDeps(config, clients, logger);
      // As Terraform renders it: each Task's TimeoutSeconds from its function's timeout.
      const functionTimeouts = Object.fromEntries(
        STEP_NAMES.flatMap((name) => {
          const seconds = options.timeouts?.[functionName(LOCAL_DEPLOYMENT, name)];
          return seconds === undefined ? [] : [[name, seconds]];
        }),
      ) as Partial<Record<StepName, number>>;
      const definition = await renderDefinition(localAslVariables({}, options.retry ?? {}, functionTimeouts));
      const faults = new FaultInjector();
      const iam = new IamEnforcer(options.iam?.remove ? { remove: options.iam.remove } : {});
      const sourceTagged = objectTagReader(clients.s3);
      for (const name of STEP_NAMES) {
        attachIam(stepClients[name], name, iam, { sourceTagged });
        faults.attachTo(stepClients[name]);
      }
      const stepDeps = Object.fromEntries(STEP_NAMES.map((name) => [name, createDeps(config, stepClients[name], logger)])) as Record<StepName, StepDeps>;
      const functionEnvironment = { ...environment, ...lambdaRuntimeEnvironment(emulators, options.logLevel ?? 'SILENT') };
      const functions = Object.fromEntries(
        STEP_NAMES.map((name) => [
          name,
          new LambdaSandbox(
            stepFunction(name, {
              environment: functionEnvironment,
              ...(options.timeouts ? { timeouts: options.timeouts } : {}),
              ...(options.memory ? { memory: options.memory } : {}),
              ...(options.concurrency ? { concurrency: options.concurrency } : {}),
            }),
            { iam, faults },
          ),
        ]),
      ) as StepSandboxes;
      const runner = new WorkflowRunner(definition, localHandlers(definition, options.inProcess ? stepDeps : functions, faults, options.timeouts ?? {}, iam), {
        region: LOCAL_REGION,
        account: LOCAL_ACCOUNT,
        stateMachineName: STATE_MACHINE_NAME,
        ...(options.retryPauseMs !== undefined ? { retryPauseMs: options.retryPauseMs } : {}),
        ...(options.workflowType ? { workflowType: options.workflowType } : {}),
        ...(options.maxDurationMs !== undefined ? { maxDurationMs: options.maxDurationMs } : {}),
      });
      // The sweeper (fn-sweep) runs in this process with its own clients, checked against its role.
      const sweepClients = createClients({ ...common, endpoints: emulators.endpoints });
      attachIam(sweepClients, 'sweep', iam, { sourceTagged });
      faults.attachTo(sweepClients);
      const sweepDeps = createDeps(config, sweepClients, logger);
      // A persistent data folder may hold jobs of a run that was killed: nothing of it is alive
      // now (this process owns the folder), so their claims are released for a re-run to take.
      const released = options.dataDir ? await deps.ledger.releaseClaims(new Date()) : [];
      // A run killed between recording a job's outcome and publishing it left a job that no
      // re-run will notify (it is not a claim to take over): the sweeper sends it now, without
      // ending the released jobs (the re-run takes them over).
      const resent = options.dataDir
        ? (await runSweep(sweepDeps, { abandonExpired: false, notifyAfterSeconds: 0, notifyWindowSeconds: Number.POSITIVE_INFINITY })).notified
        : [];
      const uploadVersioning = options.uploadVersioning ?? 'Enabled';
      await setVersioning(clients.s3, UPLOAD_BUCKET, uploadVersioning);
      const uploader = createClients({ ...common, endpoints: emulators.endpoints }).s3;
      const stack = new LocalStack(emulators, clients, config, deps, stepClients, stepDeps, functions, definition, runner, faults, iam, sqs, { success: success.queue, error: failure.queue }, uploader, sweepClients, sweepDeps);
      stack.releasedClaims = released;
      stack.resentNotifications = resent;
      stack.uploadVersioning = uploadVersioning;
      stack.eventBridgeKeys = options.eventBridgeKeys ?? 'decoded';
      return stack;
    } catch (error) {
      await emulators.stop();
      throw error;
    }
  }

  get ledger(): JobLedger {
    return this.deps.ledger;
  }

  /**
   * Runs the workflow for one Object Created event, as EventBridge would start it: with the
   * rule's role. If that role may not start it, the event goes to `deadLetters` and this rejects
   * with the AccessDeniedException StartExecution answers.
   */
  execute(event: ObjectCreatedEvent, listener?: ExecutionListener, options: ExecuteOptions = {}): Promise<ExecutionReport> {
    const run = (async () => {
      const deadLetter = await authorizeStartExecution(this.iam, event, { stateMachineArn: STATE_MACHINE_ARN, ruleArn: TRIGGER_RULE_ARN });
      if (deadLetter) {
        this.deadLetters.push(deadLetter);
        throw Object.assign(new Error(deadLetter.ERROR_MESSAGE), { name: 'AccessDeniedException' });
      }
      return this.runner.execute(event, listener, options);
    })();
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
      for (const record of notification.Records ?? []) this.deliver(record);
    };
    if (!this.emulators.s3rver) throw new Error('The trigger needs the S3 emulator in this process; with emulators elsewhere, call execute()');
    this.emulators.s3rver.on('event', this.triggerHandler);
  }

  /** Uploads start no more executions (those running go on): the first step of a graceful stop. */
  disableTrigger(): void {
    if (this.triggerHandler) this.emulators.s3rver?.off('event', this.triggerHandler);
    this.triggerHandler = undefined;
  }

  /**
   * Puts an object into the upload bucket: with the trigger enabled, that starts a workflow.
   * Returns the object's identity (with its version id when the bucket is versioned);
   * `jobIdFor()` of it is the job id the workflow will use. `tags` become the object's tags
   * (`x-amz-tagging`, e.g. 'owner=alice&project=x'), as an uploader may set them.
   */
  async upload(key: string, body: Buffer, contentType = 'application/octet-stream', tags?: string): Promise<ObjectRef> {
    const response = await this.uploader.send(
      new PutObjectCommand({ Bucket: this.uploadBucket, Key: key, Body: body, ContentType: contentType, ...(tags ? { Tagging: tags } : {}) }),
    );
    return {
      bucket: this.uploadBucket,
      key,
      ...(response.VersionId ? { versionId: response.VersionId } : {}),
      etag: (response.ETag ?? '').replace(/"/g, ''),
      size: body.length,
    };
  }

  /** One S3 notification record through the trigger: an object created in the upload bucket starts an execution. */
  private deliver(record: S3NotificationRecord): void {
    if (record.s3.bucket.name !== this.uploadBucket) return;
    const event = objectCreatedFromRecord(record, LOCAL_ACCOUNT, this.eventBridgeKeys);
    if (!event) return;
    this.execute(event, (update) => {
      for (const each of this.triggerListeners) each(update);
    }).catch(() => undefined);
  }

  /**
   * What `imgflow run` does with a file: uploads it, unless the upload bucket holds these bytes
   * under the key already (same ETag and size), as a sync tool skips unchanged files. Then the
   * event of that upload is delivered again (EventBridge may redeliver an event too), so the
   * ledger recognises the job: a duplicate, or the claim of a killed run taken over. Uploading
   * the same bytes again would be a new upload: in a versioned bucket a new version, a new job.
   */
  async submit(key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<ObjectRef> {
    let current: { ETag?: string; ContentLength?: number; VersionId?: string } | undefined;
    try {
      current = await this.uploader.send(new HeadObjectCommand({ Bucket: this.uploadBucket, Key: key }));
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    }
    const etag = createHash('md5').update(body).digest('hex');
    if (!current || (current.ETag ?? '').replace(/"/g, '') !== etag || current.ContentLength !== body.length) return this.upload(key, body, contentType);
    const ref: ObjectRef = { bucket: this.uploadBucket, key, ...(current.VersionId ? { versionId: current.VersionId } : {}), etag, size: body.length };
    if (this.triggerHandler) {
      this.deliver({
        eventName: 'ObjectCreated:Put',
        eventTime: new Date().toISOString(),
        awsRegion: LOCAL_REGION,
        s3: { bucket: { name: ref.bucket }, object: { key: encodeEventKey(key), size: ref.size, eTag: etag, ...(ref.versionId ? { versionId: ref.versionId } : {}) } },
      });
    }
    return ref;
  }

  /**
   * One run of the sweeper (fn-sweep's handler, as its schedule invokes it on AWS): jobs whose
   * execution died past their lease (an Express time-out, a payload over the limit, a stopped
   * execution) are ended FAILED and notified; finished jobs left without a notification get it.
   */
  sweep(options: SweepOptions = {}): Promise<SweepSummary> {
    return runSweep(this.sweepDeps, options);
  }

  /** Runs the sweeper every `periodMs` (the contract's schedule by default) until the stack stops. */
  startSweeper(periodMs: number = scheduleMillis() ?? 300_000, onResult?: Parameters<typeof startSchedule>[2]): SweepSchedule {
    const schedule = startSchedule(periodMs, () => this.sweep(), onResult);
    this.schedules.push(schedule);
    return schedule;
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
    await Promise.all(this.schedules.map((schedule) => schedule.stop()));
    await this.whenIdle();
    await Promise.all(Object.values(this.functions).map((sandbox) => sandbox.stop()));
    destroyClients(this.clients);
    destroyClients(this.sweepClients);
    for (const clients of Object.values(this.stepClients)) destroyClients(clients);
    this.uploader.destroy();
    this.sqs.destroy();
    await this.emulators.stop();
  }
}
