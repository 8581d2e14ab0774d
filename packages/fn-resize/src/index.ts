import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createResizeHandler } from './resize.js';

export { createResizeHandler, resize, type ResizeInput } from './resize.js';

/** The Lambda entry point: `index.handler`. */
export const handler = createResizeHandler(lazyDepsFromEnv('imgflow-resize'));
