import { sweeper } from '@imgflow/contract';
import { PipelineError } from '@imgflow/pipeline';

/**
 * A job's execution stopped without recording an outcome (an Express execution killed at its
 * 5-minute limit never runs NotifyError; a stopped one neither) and its lease expired. Never
 * thrown by a step: the sweeper records it as the job's FAILED reason (the contract's
 * sweeper.abandoned: this name, kind `fail`, code EXECUTION_ABANDONED).
 */
export class ExecutionAbandonedError extends PipelineError {
  readonly code = sweeper().abandoned.code;
}
