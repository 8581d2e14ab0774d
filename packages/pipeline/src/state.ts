import type { OutputFormat, Placeholder, QualityChoice } from '@imgflow/image-core';
import type { ObjectRef } from './keys.js';

/**
 * The workflow state. It carries references (bucket, keys, job id) and small facts, never
 * image bytes: its size does not grow with the image, only (slightly) with the recipe.
 */
export interface Job {
  jobId: string;
  source: ObjectRef;
  /** sha256 of the upload's bytes. */
  sha256: string;
  format: string;
  width: number;
  height: number;
  frames: number;
  /** The upload carries an ICC profile (kept when the recipe keeps icc). */
  icc: boolean;
  /** Upright, sRGB, still, nothing to strip: the original may stand in for a same-size output (image-core isCleanOriginal). */
  clean: boolean;
  /** Fingerprint of the recipe the job runs (see image-core recipeFingerprint). */
  recipe: string;
  /** Folder of this upload's outputs under the output prefix. */
  stem: string;
  executionId: string;
  /** ISO time the job was claimed. */
  startedAt: string;
  /** A re-render after a recipe change: only some renditions are rendered (see planRerender). */
  rerender?: Rerender;
}

/**
 * What a re-render of a SUCCEEDED job under a new recipe does, decided by ValidateImage from
 * the record it replaces (rerender.ts). Renditions whose fingerprint is unchanged are kept as
 * they are; new and changed ones are rendered, the changed ones under new keys (a reader of the
 * old manifest still finds every object it names); the outputs of renditions the recipe no
 * longer has are deleted once the new manifest is written, unless the deployment keeps them.
 */
export interface Rerender {
  /** The recipe fingerprint the replaced outputs were made with. */
  from: string;
  /** Renditions to render: new in the recipe, or whose definition changed. */
  renditions: string[];
  /** Outputs of unchanged renditions, carried into the new record and manifest as they are. */
  kept: OutputRecord[];
  /** Outputs no rendition of the recipe has any more. */
  removed: OutputRecord[];
  /** Outputs of changed renditions, replaced by outputs under new keys. */
  superseded: OutputRecord[];
  /** The replaced record's placeholder, for a re-render that decodes nothing. */
  placeholder?: Placeholder;
}

export interface OutputRecord {
  rendition: string;
  format: OutputFormat;
  key: string;
  width: number;
  height: number;
  bytes: number;
  /** Hex sha256 of the stored object's bytes (a pass-through output's is the original's). Absent in records older than manifests. */
  sha256?: string;
  /** renditionFingerprint of the rendition's definition that made it (absent in records older than re-renders). */
  fingerprint?: string;
  /** How the quality was chosen when the recipe's quality for the format is 'auto' (image-core quality.ts). */
  autoQuality?: QualityChoice;
}

export interface Rejection {
  /** Error class name, e.g. ImageTooLargeError. */
  error: string;
  code: string;
  message: string;
}

/** Milliseconds spent in each step's handler. */
export type Timings = Partial<Record<'validate' | 'resize' | 'filter' | 'optimize' | 'notify', number>>;

/** What ValidateImage returns; it becomes the whole state. */
export type ValidateResult =
  | { outcome: 'duplicate'; jobId: string; existingStatus: string }
  | { outcome: 'rejected'; job: Partial<Job> & { jobId: string; source: ObjectRef; executionId: string; startedAt: string }; rejection: Rejection; timings: Timings }
  | { outcome: 'cached'; job: Job; outputs: OutputRecord[]; placeholder?: Placeholder; cachedFrom: string; manifestKey: string; timings: Timings }
  | { outcome: 'valid'; job: Job; timings: Timings };

/** One branch's intermediate: one bundle object with the branch's renditions, or none. */
export interface IntermediateResult {
  step: 'resize' | 'filter';
  /** Work key of the bundle; absent when the branch had nothing to do. */
  bundleKey?: string;
  renditions: string[];
  /** Rendition name → bundle entry holding its pixels (identical renditions share one entry). */
  aliases: Record<string, string>;
  placeholder?: Placeholder;
  millis: number;
}

export interface OptimizeResult {
  outputs: OutputRecord[];
  /** Outputs copied server-side from the original because re-encoding would only grow them. */
  passthrough: number;
  /** Key of the image's manifest (see manifestKey) in the output bucket, written after every output. */
  manifestKey: string;
  millis: number;
}

/** The error Step Functions puts at ResultPath when a Catch fires. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/** The state after the happy path; the notify step reads it. */
export interface ProcessedState {
  outcome: 'valid';
  job: Job;
  timings: Timings;
  intermediates: [IntermediateResult, IntermediateResult];
  optimized: OptimizeResult;
}

export type JobStatus = 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'REJECTED' | 'FAILED';
export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'REJECTED', 'FAILED'];

export interface NotifyResult {
  jobId: string;
  status: JobStatus;
  messageId: string;
}
