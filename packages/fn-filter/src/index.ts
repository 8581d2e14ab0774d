import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createFilterHandler } from './filter.js';

export { createFilterHandler, filter, type FilterInput } from './filter.js';

/** The Lambda entry point: `index.handler`. */
export const handler = createFilterHandler(lazyDepsFromEnv('imgflow-filter'));
