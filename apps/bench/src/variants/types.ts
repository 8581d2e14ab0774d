import type { Counters } from '../counters.js';
import type { BenchImage } from '../corpus.js';

export const VARIANTS = ['floor', 'imgflow', 'naive', 'imagemagick'] as const;
export type VariantName = (typeof VARIANTS)[number];

/** One output file of one run. */
export interface OutputFile {
  rendition: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  /** Kept only when asked (the first repetition, for the similarity score). */
  data?: Uint8Array;
}

/** The Lambda function a piece of work would run in on AWS (memory sizes come from the Terraform defaults). */
export type LambdaRole = 'validate' | 'resize' | 'filter' | 'optimize' | 'notify' | 'floor';

export interface LambdaCall {
  role: LambdaRole;
  /** Handler wall time, the billed duration on AWS (1 ms granularity). */
  ms: number;
  /** The Task state that invoked it, when measured per invocation (imgflow, floor). */
  state?: string;
  /** CPU time of the invocation (see InvocationMeter), when measured per invocation. */
  cpuMs?: number;
}

export interface RunResult {
  wallMs: number;
  /** CPU time (user + system) of the run; how it is measured is the variant's cpuMethod. */
  cpuMs: number;
  /**
   * CPU time the emulators (S3, DynamoDB, SNS, in their own process) spent serving the run:
   * on AWS that is the services' work, not in any Lambda's bill. Absent without emulators.
   */
  serviceCpuMs?: number;
  /**
   * Of cpuMs, what Lambda would bill: the handlers' CPU (the floor: all of it, one function).
   * Absent when the variant cannot tell its handlers from the rest (naive, ImageMagick).
   */
  handlerCpuMs?: number;
  /** Of cpuMs, the workflow engine's (Step Functions on AWS: not in a Lambda bill); imgflow only. */
  engineCpuMs?: number;
  /** Of handlerCpuMs, what ran while two handlers ran at once (the Parallel state), split between them. */
  overlapCpuMs?: number;
  /** Exact counters; null for ImageMagick (one process, no S3, no workflow). */
  counters: Counters | null;
  outputs: OutputFile[];
  /** Every handler invocation with its duration (the cost model's Lambda GB-s); empty for ImageMagick. */
  lambda: LambdaCall[];
  /** Whole-workflow duration (Step Functions Express bills it), when there is a workflow. */
  workflowMs?: number;
  /** Peak resident set of the process that did the work so far, in bytes (child's max RSS for ImageMagick). */
  peakRssBytes: number;
}

export interface RunRequest {
  image: BenchImage;
  /** Unique per run: keeps S3 keys and ledger entries of repetitions apart. */
  runId: string;
  keepOutputs: boolean;
}

/** One way of producing the recipe's outputs from an original. */
export interface Variant {
  readonly name: VariantName;
  /** How cpuMs and peakRssBytes are measured, for the report. */
  readonly cpuMethod: string;
  readonly rssMethod: string;
  run(request: RunRequest): Promise<RunResult>;
  close(): Promise<void>;
}
