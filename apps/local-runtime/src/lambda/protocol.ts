import type { FaultAnswer, SerializedError, Service } from '../faults.js';
import type { IamRecord } from '../iam/enforcer.js';
import type { PolicyRemovals, RoleKey } from '../iam/policies.js';

/**
 * What a sandbox's entry reads from IMGFLOW_LOCAL_SANDBOX (the one variable only it reads): which
 * handler to build, with which role, under which memory limit.
 */
export interface SandboxSpec {
  functionName: string;
  /** The package that exports the handler factory, e.g. @imgflow/fn-resize. */
  package: string;
  /** The factory's export name, e.g. createResizeHandler: `(getDeps: () => StepDeps) => handler`. */
  factory: string;
  /** The IAM role its SDK clients are checked against. */
  role: RoleKey;
  memoryMb: number;
  /** The stack's IAM removals at start-up (each invocation carries the current ones). */
  removals: PolicyRemovals;
}

/** The variable carrying the SandboxSpec (JSON). */
export const SANDBOX_SPEC_VARIABLE = 'IMGFLOW_LOCAL_SANDBOX';

/** How often the entry samples its resident memory. */
export const MEMORY_SAMPLE_MS = 25;

export type ParentMessage =
  /** `deadline`: when the invocation times out (epoch ms), for the context's getRemainingTimeInMillis. */
  | { type: 'invoke'; id: string; input: unknown; deadline: number; removals: PolicyRemovals }
  | { type: 'fault'; id: number; answer: FaultAnswer; deleteErrors?: Array<{ Key: string; Code: string; Message: string }> };

export type FaultQuestion = { kind: 'command'; service: Service; command: string; layer: 'call' | 'attempt' } | { kind: 'delete-keys'; keys: string[] };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; id: string; ok: true; value: unknown }
  | { type: 'result'; id: string; ok: false; error: SerializedError }
  | { type: 'iam'; record: IamRecord }
  | { type: 'fault'; id: number; question: FaultQuestion }
  | { type: 'oom'; rssMb: number; limitMb: number };
