import type { ImageLimitsInput, RecipeInput } from '@imgflow/image-core';
import { LocalStack, type LocalStackOptions } from '@imgflow/local-runtime';

/**
 * The local runtime on a data folder, as the commands that run work start it (run, backfill,
 * console, dev). A failure says which folder, and when the folder is locked, who may hold it.
 */
export async function startLocalRuntime(
  dataDir: string,
  shown: string,
  options: { recipe?: RecipeInput | undefined; limits?: ImageLimitsInput | undefined } & Pick<LocalStackOptions, 'retryPauseMs' | 'ports'> = {},
): Promise<LocalStack> {
  const { recipe, limits, ...rest } = options;
  try {
    return await LocalStack.start({ dataDir, ...(recipe ? { recipe } : {}), ...(limits ? { limits } : {}), ...rest });
  } catch (error) {
    const message = (error as Error).message;
    const hint = /lock/i.test(message) ? ' (is `imgflow dev` or `imgflow run` using it? `imgflow dev` serves its own console)' : '';
    throw new Error(`could not start the local runtime in ${shown}: ${message}${hint}`, { cause: error });
  }
}
