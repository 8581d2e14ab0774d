import { DEFAULT_RECIPE, type ImageLimits, type Recipe, parseRecipeJson, resolveLimits } from '@imgflow/image-core/contracts';
import { PREFIX_PATTERN, contract } from '@imgflow/contract';
import { z } from 'zod';
import { ConfigurationError } from './errors.js';

/** Everything a handler needs to know about its deployment. Read from the environment once, at cold start. */
export interface PipelineConfig {
  outputBucket: string;
  /** Where finished renditions go, inside the output bucket. Never overlaps workPrefix. */
  outputPrefix: string;
  /** Where intermediates between steps live (expired by a lifecycle rule as a backstop). */
  workPrefix: string;
  /** Where recipe assets (watermark images) are read from, in the output bucket. */
  assetsPrefix: string;
  jobsTable: string;
  successTopicArn: string;
  errorTopicArn: string;
  recipe: Recipe;
  limits: ImageLimits;
  /** How long a PENDING/PROCESSING claim blocks a second run of the same upload. */
  leaseSeconds: number;
  /** Cache-Control set on outputs: their keys change when the recipe changes, so they are immutable. */
  cacheControl: string;
}

const defaults = contract.config;

const EnvSchema = z.object({
  IMGFLOW_OUTPUT_BUCKET: z.string().min(3),
  IMGFLOW_OUTPUT_PREFIX: z.string().regex(PREFIX_PATTERN).default(defaults.output_prefix),
  IMGFLOW_WORK_PREFIX: z.string().regex(PREFIX_PATTERN).default(defaults.work_prefix),
  IMGFLOW_ASSETS_PREFIX: z.string().regex(PREFIX_PATTERN).default(defaults.assets_prefix),
  IMGFLOW_JOBS_TABLE: z.string().min(3),
  IMGFLOW_SUCCESS_TOPIC_ARN: z.string().startsWith('arn:'),
  IMGFLOW_ERROR_TOPIC_ARN: z.string().startsWith('arn:'),
  IMGFLOW_RECIPE: z.string().optional(),
  IMGFLOW_LIMITS: z.string().optional(),
  IMGFLOW_LEASE_SECONDS: z.coerce.number().int().positive().default(defaults.lease_seconds),
  IMGFLOW_CACHE_CONTROL: z.string().default(defaults.cache_control),
});

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`${name} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Builds the configuration; each problem names its variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigurationError(`Environment variable ${name} is ${env[name] === undefined ? 'missing' : 'invalid'}: ${issue?.message ?? ''}`);
  }
  const vars = parsed.data;
  const prefixes = [vars.IMGFLOW_OUTPUT_PREFIX, vars.IMGFLOW_WORK_PREFIX, vars.IMGFLOW_ASSETS_PREFIX];
  if (prefixes.some((a, i) => prefixes.some((b, j) => i !== j && a.startsWith(b)))) {
    throw new ConfigurationError('IMGFLOW_OUTPUT_PREFIX, IMGFLOW_WORK_PREFIX and IMGFLOW_ASSETS_PREFIX must not overlap');
  }
  return {
    outputBucket: vars.IMGFLOW_OUTPUT_BUCKET,
    outputPrefix: vars.IMGFLOW_OUTPUT_PREFIX,
    workPrefix: vars.IMGFLOW_WORK_PREFIX,
    assetsPrefix: vars.IMGFLOW_ASSETS_PREFIX,
    jobsTable: vars.IMGFLOW_JOBS_TABLE,
    successTopicArn: vars.IMGFLOW_SUCCESS_TOPIC_ARN,
    errorTopicArn: vars.IMGFLOW_ERROR_TOPIC_ARN,
    recipe: vars.IMGFLOW_RECIPE ? parseRecipeJson(vars.IMGFLOW_RECIPE) : DEFAULT_RECIPE,
    limits: resolveLimits(vars.IMGFLOW_LIMITS ? (parseJson('IMGFLOW_LIMITS', vars.IMGFLOW_LIMITS) as object) : {}),
    leaseSeconds: vars.IMGFLOW_LEASE_SECONDS,
    cacheControl: vars.IMGFLOW_CACHE_CONTROL,
  };
}

/** The environment a deployment sets for a configuration: the inverse of configFromEnv. */
export function configToEnv(config: PipelineConfig): Record<string, string> {
  return {
    IMGFLOW_OUTPUT_BUCKET: config.outputBucket,
    IMGFLOW_OUTPUT_PREFIX: config.outputPrefix,
    IMGFLOW_WORK_PREFIX: config.workPrefix,
    IMGFLOW_ASSETS_PREFIX: config.assetsPrefix,
    IMGFLOW_JOBS_TABLE: config.jobsTable,
    IMGFLOW_SUCCESS_TOPIC_ARN: config.successTopicArn,
    IMGFLOW_ERROR_TOPIC_ARN: config.errorTopicArn,
    IMGFLOW_RECIPE: JSON.stringify(config.recipe),
    IMGFLOW_LIMITS: JSON.stringify(config.limits),
    IMGFLOW_LEASE_SECONDS: String(config.leaseSeconds),
    IMGFLOW_CACHE_CONTROL: config.cacheControl,
  };
}
