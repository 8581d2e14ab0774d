import { z } from 'zod';
import raw from '../../../infra/modules/workflow/contract.json' with { type: 'json' };

/**
 * What an error means to the workflow:
 * - `retry`: transient; the Task is retried with backoff and full jitter, then the job FAILS.
 * - `reject`: the upload is at fault; the job ends REJECTED with a reason code, never retried.
 * - `fail`: the deployment (or code) is at fault; the job ends FAILED, never retried.
 */
export const ERROR_KINDS = ['retry', 'reject', 'fail'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export const WORKFLOW_TYPES = ['EXPRESS', 'STANDARD'] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

const errorName = z.string().regex(/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/);

/** One or more lowercase path segments, each ending in '/'. */
export const PREFIX_PATTERN = /^([a-z0-9][a-z0-9_-]*\/)+$/;
const prefix = z.string().regex(PREFIX_PATTERN);

const StepSchema = z.strictObject({
  states: z.array(z.string().regex(/^[A-Z][A-Za-z]+$/)).min(1),
  package: z.string().regex(/^@imgflow\/fn-[a-z]+$/),
  memory_mb: z.number().int().min(128).max(10240),
  timeout_seconds: z.number().int().min(1).max(900),
  description: z.string().min(1),
  errors: z.array(errorName),
});

/**
 * An EventBridge schedule expression: `rate(<n> <unit>)` (singular unit for 1) or `cron(…)`.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
export const SCHEDULE_PATTERN = /^(rate\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$/;

/**
 * The sweeper: a scheduled function outside the workflow that ends the jobs whose execution died
 * without recording an outcome (an Express execution past its 5 minutes never runs NotifyError).
 */
/** The backfill state machine's defaults (infra/modules/backfill; the local runtime renders the same definition). */
const BackfillSchema = z.strictObject({
  /** The Distributed Map's MaxConcurrency (at most 10,000). */
  max_concurrency: z.number().int().min(1).max(10000),
  /** The map run fails past this percentage of failed child executions. */
  tolerated_failure_percentage: z.number().min(0).max(100),
  /** Where in the output bucket the ResultWriter writes. */
  report_prefix: z.string().regex(/^([a-z0-9][a-z0-9_-]*\/)+$/),
  description: z.string(),
});

const SweeperSchema = z.strictObject({
  /** Its function's key: the deployed function is `<deployment>-sweep`, its zip `sweep-<arch>.zip`. */
  function: z.literal('sweep'),
  package: z.literal('@imgflow/fn-sweep'),
  memory_mb: z.number().int().min(128).max(10240),
  timeout_seconds: z.number().int().min(1).max(900),
  /** How often it runs (EventBridge schedule expression). */
  schedule: z.string().regex(SCHEDULE_PATTERN),
  /** At most this many jobs ended or notified per run; the next run takes the rest. */
  max_jobs_per_run: z.number().int().min(1),
  description: z.string().min(1),
  /** The reason an abandoned job is recorded FAILED with: a declared error of kind `fail`, and its reason code. */
  abandoned: z.strictObject({ error: errorName, code: z.string().regex(/^[A-Z][A-Z0-9_]+$/) }),
});

const ErrorSchema = z.strictObject({
  kind: z.enum(ERROR_KINDS),
  /** The package whose class raises it, or `aws` for errors the platform raises. */
  source: z.enum(['@imgflow/image-core', '@imgflow/pipeline', '@imgflow/fn-sweep', 'aws']),
  description: z.string().min(1),
});

export const ContractSchema = z
  .strictObject({
    $schema: z.string().optional(),
    description: z.string(),
    workflow: z.strictObject({
      default_type: z.enum(WORKFLOW_TYPES),
      catch_errors: z.array(z.string()).min(1),
      /** Each Task's TimeoutSeconds is its function's timeout plus this: Lambda's own timeout fires first. */
      task_timeout_margin_seconds: z.number().int().min(0),
      /** The longest an execution of each type may run (Express: 5 minutes, uncatchable). */
      max_duration_seconds: z.strictObject({ EXPRESS: z.number().int().positive(), STANDARD: z.number().int().positive() }),
    }),
    retry: z.strictObject({
      interval_seconds: z.number().int().min(1),
      max_attempts: z.number().int().min(0).max(99_999_999),
      backoff_rate: z.number().min(1),
      max_delay_seconds: z.number().int().min(1).max(31_622_399),
      jitter_strategy: z.enum(['FULL', 'NONE']),
    }),
    config: z.strictObject({
      description: z.string(),
      output_prefix: prefix,
      work_prefix: prefix,
      assets_prefix: prefix,
      lease_seconds: z.number().int().min(1),
      cache_control: z.string().min(1),
    }),
    lambda: z.strictObject({
      description: z.string(),
      environment_max_bytes: z.number().int().positive(),
      environment_reserved_bytes: z.number().int().nonnegative(),
    }),
    steps: z.record(z.string().regex(/^[a-z]+$/), StepSchema),
    sweeper: SweeperSchema,
    backfill: BackfillSchema,
    platform_errors: z.array(errorName),
    errors: z.record(errorName, ErrorSchema),
  })
  .superRefine((contract, context) => {
    const declared = new Set(Object.keys(contract.errors));
    const used = new Set<string>();
    const states = new Set<string>();
    for (const [step, definition] of Object.entries(contract.steps)) {
      for (const name of definition.errors) {
        if (!declared.has(name)) context.addIssue({ code: 'custom', path: ['steps', step, 'errors'], message: `Step ${step} raises ${name}, which errors does not declare` });
        if (contract.platform_errors.includes(name)) {
          context.addIssue({ code: 'custom', path: ['steps', step, 'errors'], message: `${name} is a platform error: it belongs in platform_errors only` });
        }
        used.add(name);
      }
      for (const state of definition.states) {
        if (states.has(state)) context.addIssue({ code: 'custom', path: ['steps', step, 'states'], message: `State ${state} belongs to two steps` });
        states.add(state);
      }
    }
    for (const name of contract.platform_errors) {
      if (!declared.has(name)) context.addIssue({ code: 'custom', path: ['platform_errors'], message: `${name} is not declared in errors` });
      if (contract.errors[name]?.source !== 'aws') context.addIssue({ code: 'custom', path: ['platform_errors'], message: `${name} must have source "aws"` });
      used.add(name);
    }
    const abandoned = contract.sweeper.abandoned.error;
    if (!declared.has(abandoned)) context.addIssue({ code: 'custom', path: ['sweeper', 'abandoned', 'error'], message: `The sweeper records ${abandoned}, which errors does not declare` });
    else if (contract.errors[abandoned]?.kind !== 'fail') context.addIssue({ code: 'custom', path: ['sweeper', 'abandoned', 'error'], message: `The sweeper records ${abandoned} as FAILED: its kind must be "fail"` });
    used.add(abandoned);
    if (Object.hasOwn(contract.steps, contract.sweeper.function)) {
      context.addIssue({ code: 'custom', path: ['sweeper', 'function'], message: `The sweeper's function ${contract.sweeper.function} has the name of a step` });
    }
    for (const name of declared) {
      if (!used.has(name)) context.addIssue({ code: 'custom', path: ['errors', name], message: `${name} is declared but no step raises it (nor the sweeper records it)` });
    }
  });

export type Contract = z.output<typeof ContractSchema>;
/** The steps, one Lambda function and workspace package each (validate, resize, …). */
export type StepName = keyof typeof raw.steps;
/** Every error name the workflow knows: the code's error classes and the platform's. */
export type ErrorName = keyof typeof raw.errors;
export type StepDefinition = z.output<typeof StepSchema>;
export type SweeperDefinition = z.output<typeof SweeperSchema>;
/** The sweeper's function key (`sweep`). */
export type SweeperFunction = SweeperDefinition['function'];
/** Every Lambda function of a deployment: the steps', then the sweeper's. */
export type FunctionKey = StepName | SweeperFunction;

function load(): Contract {
  const parsed = ContractSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`infra/modules/workflow/contract.json is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** The contract, checked against its schema when this module loads. */
export const contract: Contract = load();

/** The steps in workflow order: the workflow's Task functions (the sweeper is not one: see FUNCTION_KEYS). */
export const STEP_NAMES = Object.keys(contract.steps) as StepName[];

/** The sweeper's function key, `sweep`. */
export const SWEEPER_FUNCTION: SweeperFunction = contract.sweeper.function;

/** Every Lambda function a deployment packages and deploys: the steps in workflow order, then the sweeper. */
export const FUNCTION_KEYS: readonly FunctionKey[] = [...STEP_NAMES, SWEEPER_FUNCTION];

/** The sweeper's settings: package, memory, timeout, schedule, batch limit, the reason it records. */
export function sweeper(): SweeperDefinition {
  return contract.sweeper;
}

/** The workspace package of a function (a step's or the sweeper's). */
export function functionPackage(name: FunctionKey): string {
  return name === SWEEPER_FUNCTION ? contract.sweeper.package : step(name).package;
}

export function step(name: StepName): StepDefinition {
  return contract.steps[name] as StepDefinition;
}

export function isStepName(name: string): name is StepName {
  return Object.hasOwn(contract.steps, name);
}

/** The kind of an error by its name; undefined for a name the contract does not declare. */
export function errorKind(name: string): ErrorKind | undefined {
  return Object.hasOwn(contract.errors, name) ? contract.errors[name]?.kind : undefined;
}

/** Names declared with this kind, in contract order. */
export function errorNames(kind: ErrorKind): string[] {
  return Object.entries(contract.errors)
    .filter(([, error]) => error.kind === kind)
    .map(([name]) => name);
}

/** The step whose Task state this is. */
export function stepOfState(state: string): StepName | undefined {
  return STEP_NAMES.find((name) => step(name).states.includes(state));
}

/** The deployed function of a step or of the sweeper: `<deployment name>-<key>` (imgflow-validate, …, imgflow-sweep). */
export function functionName(deployment: string, name: FunctionKey): string {
  return `${deployment}-${name}`;
}

/** The step a function name belongs to, for a deployment name. */
export function stepOfFunction(deployment: string, functionNameValue: string): StepName | undefined {
  const prefix = `${deployment}-`;
  if (!functionNameValue.startsWith(prefix)) return undefined;
  const name = functionNameValue.slice(prefix.length);
  return isStepName(name) ? name : undefined;
}

/**
 * The errors a step's Task retries: its own errors of kind `retry`, then the platform's.
 * The ASL's Retry lists are rendered from this (and from the same rule in Terraform).
 */
export function retryErrors(name: StepName): string[] {
  return [...step(name).errors, ...contract.platform_errors].filter((error) => errorKind(error) === 'retry');
}

export type RetryPolicy = Contract['retry'];

/** A Task's TimeoutSeconds: its function's timeout (whole seconds, rounded up) plus the contract's margin. */
export function taskTimeoutSeconds(functionTimeoutSeconds: number): number {
  return Math.ceil(functionTimeoutSeconds) + contract.workflow.task_timeout_margin_seconds;
}

/**
 * The longest one execution can take: along the longest path (validate, the slower branch,
 * optimize, notify), every attempt of every Task running to its TimeoutSeconds, plus every
 * backoff pause at its full (un-jittered) length. The same rule as the workflow module's
 * plan-time check (infra/modules/workflow/locals.tf, worst_case_seconds).
 */
export function worstCaseSeconds(functionTimeouts: Partial<Record<StepName, number>> = {}, retry: Partial<Omit<RetryPolicy, 'jitter_strategy'>> = {}): number {
  const policy = { ...contract.retry, ...retry };
  const backoff = Array.from({ length: policy.max_attempts }, (_, index) =>
    Math.min(policy.interval_seconds * policy.backoff_rate ** index, policy.max_delay_seconds),
  ).reduce((sum, pause) => sum + pause, 0);
  const task = (name: StepName) => taskTimeoutSeconds(functionTimeouts[name] ?? step(name).timeout_seconds) * (policy.max_attempts + 1) + backoff;
  return task('validate') + Math.max(task('resize'), task('filter')) + task('optimize') + task('notify');
}

/** The JSON Schema of contract.json (committed as contract.schema.json beside it). */
export function contractJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ContractSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
