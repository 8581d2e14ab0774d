import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createValidateHandler } from './validate.js';

export { createValidateHandler, validate, type ValidateInput } from './validate.js';

/** The Lambda entry point: `index.handler`. */
export const handler = createValidateHandler(lazyDepsFromEnv('imgflow-validate'));
