import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createOptimizeHandler } from './optimize.js';

export { createOptimizeHandler, optimize, type OptimizeInput } from './optimize.js';

/** The Lambda entry point: `index.handler`. */
export const handler = createOptimizeHandler(lazyDepsFromEnv('imgflow-optimize'));
