import { STEP_NAMES, type StepName, step } from '@imgflow/contract';
/**
 * The price table of the cost model: the ONE place its numbers live. Region us-east-1 (N. Virginia),
 * on-demand list prices in USD, first pricing tier, free tiers ignored.
 *
 * Sources (public AWS pricing pages; values as published there through 2024–2025, not re-checked by
 * this program: edit here when they change, and the whole model follows):
 * - Lambda: https://aws.amazon.com/lambda/pricing/
 *   x86_64 $0.0000166667 per GB-second, arm64 (Graviton2) $0.0000133334 per GB-second (first
 *   6 billion GB-s per month), $0.20 per 1M requests; duration billed per 1 ms (since Dec 2020).
 * - Step Functions: https://aws.amazon.com/step-functions/pricing/
 *   Standard: $0.025 per 1,000 state transitions.
 *   Express: $1.00 per 1M requests, plus $0.00001667 per GB-second (first 1,000,000 GB-hours);
 *   duration rounded up to the next 100 ms, memory billed in 64 MB chunks.
 * - S3 Standard requests: https://aws.amazon.com/s3/pricing/
 *   PUT, COPY, POST, LIST: $0.005 per 1,000; GET (and all other requests): $0.0004 per 1,000;
 *   DELETE: free.
 * - DynamoDB on-demand (Standard table class): https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   $0.625 per million write request units, $0.125 per million read request units (the prices
 *   since the November 2024 reduction). A global secondary index bills its own write units for
 *   every table write that touches it (apps/bench/src/dynamodb.ts counts them).
 *
 * Not modeled (small next to these for this workload, and the same design question on every
 * variant): SNS publishes, CloudWatch logs, data transfer, S3 and DynamoDB storage.
 */
export const PRICES = {
  region: 'us-east-1',
  currency: 'USD',
  lambda: {
    gbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 },
    perRequest: 0.2 / 1_000_000,
  },
  stepFunctions: {
    standard: { perTransition: 0.025 / 1000 },
    express: {
      perRequest: 1.0 / 1_000_000,
      gbSecond: 0.00001667,
      /** Billed duration granularity. */
      durationIncrementMs: 100,
      /** Billed memory granularity; an execution with payloads of a few KiB uses the first chunk. */
      memoryIncrementMb: 64,
      memoryMb: 64,
    },
  },
  dynamodb: {
    perWriteUnit: 0.625 / 1_000_000,
    perReadUnit: 0.125 / 1_000_000,
  },
  s3: {
    perGet: 0.0004 / 1000,
    /** PUT, COPY, POST and LIST share one price. */
    perPut: 0.005 / 1000,
    perCopy: 0.005 / 1000,
    perList: 0.005 / 1000,
    perDelete: 0,
  },
} as const;

export type Prices = typeof PRICES;
export type Architecture = keyof Prices['lambda']['gbSecond'];
export const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];

/**
 * Lambda memory sizes (MB) per function: the workflow contract's defaults (what image-pipeline
 * deploys unless told otherwise). The floor is one function doing all the work: it gets the
 * largest size of the steps that decode and encode.
 */
export const LAMBDA_MEMORY_MB = {
  ...(Object.fromEntries(STEP_NAMES.map((name) => [name, step(name).memory_mb])) as Record<StepName, number>),
  floor: Math.max(step('optimize').memory_mb, step('resize').memory_mb),
} as const;
export type MemorySizes = Record<keyof typeof LAMBDA_MEMORY_MB, number>;
