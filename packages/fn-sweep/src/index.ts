import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createSweepHandler } from './sweep.js';

export { ExecutionAbandonedError } from './errors.js';
export { type ScheduledEvent, type SweepFailure, type SweepOptions, type SweepSummary, abandonedRejection, createSweepHandler, sweep } from './sweep.js';

/** The Lambda entry point: `index.handler`, invoked by the EventBridge schedule. */
export const handler = createSweepHandler(lazyDepsFromEnv('imgflow-sweep'));
