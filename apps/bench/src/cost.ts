import type { Counters } from './counters.js';
import { type DynamoUnits, totalWriteUnits } from './dynamodb.js';
import { type Architecture, LAMBDA_MEMORY_MB, type MemorySizes, PRICES, type Prices } from './prices.js';
import type { LambdaCall } from './variants/types.js';

export type Workflow = 'standard' | 'express';

/** The Lambda memory sizes the cost model prices: the workflow contract's defaults. */
export function memorySizes(): { sizes: MemorySizes; source: string } {
  return { sizes: { ...LAMBDA_MEMORY_MB }, source: 'infra/modules/workflow/contract.json (the memory sizes image-pipeline deploys by default)' };
}

/** What one image costs, by part, in USD. */
export interface CostBreakdown {
  lambdaCompute: number;
  lambdaRequests: number;
  stepFunctions: number;
  s3: number;
  /** The ledger's DynamoDB request units (table and index writes, reads). */
  dynamodb: number;
  total: number;
}

export interface CostInput {
  counters: Pick<Counters, 'lambdaInvocations' | 'transitions'> & {
    s3: Pick<Counters['s3'], 'gets' | 'puts' | 'copies' | 'lists' | 'deletes'>;
    dynamodb?: Pick<DynamoUnits, 'tableWrites' | 'indexWrites' | 'readUnits'>;
  };
  lambda: readonly LambdaCall[];
  /** Whole-workflow duration for Express; undefined when there is no workflow (the floor). */
  workflowMs?: number;
}

/**
 * One image on AWS: Lambda GB-s (memory of each function × its handler wall time, 1 ms
 * granularity) and requests, the workflow (Standard: per transition; Express: per request +
 * GB-s of 64 MB chunks over the duration rounded up to 100 ms; none without a workflow), and
 * the S3 requests the handlers made, and the DynamoDB request units of their ledger calls (write
 * units of the table and of each index it writes, read units).
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
  const units = input.counters.dynamodb;
  const dynamodb = units ? totalWriteUnits(units) * prices.dynamodb.perWriteUnit + units.readUnits * prices.dynamodb.perReadUnit : 0;
  return { lambdaCompute, lambdaRequests, stepFunctions, s3: s3Cost, dynamodb, total: lambdaCompute + lambdaRequests + stepFunctions + s3Cost + dynamodb };
}

/** The mean of several per-image costs, scaled to a million images. */
export function perMillion(costs: readonly CostBreakdown[]): CostBreakdown {
  const average = (pick: (cost: CostBreakdown) => number) => (costs.length === 0 ? Number.NaN : (costs.reduce((total, cost) => total + pick(cost), 0) / costs.length) * 1_000_000);
  return {
    lambdaCompute: average((cost) => cost.lambdaCompute),
    lambdaRequests: average((cost) => cost.lambdaRequests),
    stepFunctions: average((cost) => cost.stepFunctions),
    s3: average((cost) => cost.s3),
    dynamodb: average((cost) => cost.dynamodb),
    total: average((cost) => cost.total),
  };
}
