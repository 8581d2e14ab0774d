import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Counters } from './counters.js';
import { type Architecture, DEFAULT_MEMORY_MB, type MemorySizes, PRICES, type Prices } from './prices.js';
import type { LambdaCall } from './variants/types.js';

export type Workflow = 'standard' | 'express';

/**
 * The Lambda memory sizes of the Terraform module's defaults (`<step> = { memory_size = N, … }`
 * in infra/modules/image-pipeline), or DEFAULT_MEMORY_MB when the module is not there.
 */
export function memorySizes(repositoryRoot: string): { sizes: MemorySizes; source: string } {
  const dir = join(repositoryRoot, 'infra/modules/image-pipeline');
  const sizes: MemorySizes = { ...DEFAULT_MEMORY_MB };
  if (!existsSync(join(dir, 'variables.tf'))) return { sizes, source: 'apps/bench/src/prices.ts (no Terraform module found)' };
  let found = 0;
  for (const file of ['locals.tf', 'variables.tf']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    for (const match of readFileSync(path, 'utf8').matchAll(/\b(validate|resize|filter|optimize|notify)\s*=\s*\{\s*memory_size\s*=\s*(\d+)/g)) {
      sizes[match[1] as keyof MemorySizes] = Number(match[2]);
      found += 1;
    }
  }
  sizes.floor = Math.max(sizes.optimize, sizes.resize);
  return { sizes, source: found > 0 ? 'infra/modules/image-pipeline (Terraform defaults)' : 'apps/bench/src/prices.ts (defaults not found in Terraform)' };
}

/** What one image costs, by part, in USD. */
export interface CostBreakdown {
  lambdaCompute: number;
  lambdaRequests: number;
  stepFunctions: number;
  s3: number;
  total: number;
}

export interface CostInput {
  counters: Pick<Counters, 'lambdaInvocations' | 'transitions'> & { s3: Pick<Counters['s3'], 'gets' | 'puts' | 'copies' | 'lists' | 'deletes'> };
  lambda: readonly LambdaCall[];
  /** Whole-workflow duration for Express; undefined when there is no workflow (the floor). */
  workflowMs?: number;
}

/**
 * One image on AWS: Lambda GB-s (memory of each function × its handler wall time, 1 ms
 * granularity) and requests, the workflow (Standard: per transition; Express: per request +
 * GB-s of 64 MB chunks over the duration rounded up to 100 ms; none without a workflow), and
 * the S3 requests the handlers made.
 */
export function costPerImage(input: CostInput, workflow: Workflow, arch: Architecture, memory: MemorySizes, prices: Prices = PRICES): CostBreakdown {
  const gbSeconds = input.lambda.reduce((total, call) => total + (Math.ceil(call.ms) / 1000) * (memory[call.role] / 1024), 0);
  const lambdaCompute = gbSeconds * prices.lambda.gbSecond[arch];
  const lambdaRequests = input.counters.lambdaInvocations * prices.lambda.perRequest;
  let stepFunctions = 0;
  if (input.workflowMs !== undefined) {
    if (workflow === 'standard') {
      stepFunctions = input.counters.transitions * prices.stepFunctions.standard.perTransition;
    } else {
      const express = prices.stepFunctions.express;
      const billedSeconds = (Math.ceil(input.workflowMs / express.durationIncrementMs) * express.durationIncrementMs) / 1000;
      const billedGb = (Math.ceil(express.memoryMb / express.memoryIncrementMb) * express.memoryIncrementMb) / 1024;
      stepFunctions = express.perRequest + billedSeconds * billedGb * express.gbSecond;
    }
  }
  const { s3 } = input.counters;
  const s3Cost = s3.gets * prices.s3.perGet + s3.puts * prices.s3.perPut + s3.copies * prices.s3.perCopy + s3.lists * prices.s3.perList + s3.deletes * prices.s3.perDelete;
  return { lambdaCompute, lambdaRequests, stepFunctions, s3: s3Cost, total: lambdaCompute + lambdaRequests + stepFunctions + s3Cost };
}

/** The mean of several per-image costs, scaled to a million images. */
export function perMillion(costs: readonly CostBreakdown[]): CostBreakdown {
  const average = (pick: (cost: CostBreakdown) => number) => (costs.length === 0 ? Number.NaN : (costs.reduce((total, cost) => total + pick(cost), 0) / costs.length) * 1_000_000);
  return {
    lambdaCompute: average((cost) => cost.lambdaCompute),
    lambdaRequests: average((cost) => cost.lambdaRequests),
    stepFunctions: average((cost) => cost.stepFunctions),
    s3: average((cost) => cost.s3),
    total: average((cost) => cost.total),
  };
}
