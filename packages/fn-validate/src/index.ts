import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createValidateHandler, withGuardedLoaders } from './validate.js';

export { createValidateHandler, validate, withGuardedLoaders, type ValidateInput } from './validate.js';

/**
 * The Lambda entry point: `index.handler`. One process is one deployment's function, so the
 * loaders its limits refuse are blocked for the process at the cold start (withGuardedLoaders).
 */
export const handler = createValidateHandler(withGuardedLoaders(lazyDepsFromEnv('imgflow-validate')));
