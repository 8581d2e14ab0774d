import { describe, expect, it } from 'vitest';
import { ConfigurationError, configFromEnv, configToEnv } from '../../src/index.js';

const env = {
  IMGFLOW_OUTPUT_BUCKET: 'outputs',
  IMGFLOW_JOBS_TABLE: 'jobs',
  IMGFLOW_SUCCESS_TOPIC_ARN: 'arn:aws:sns:us-east-1:1:ok',
  IMGFLOW_ERROR_TOPIC_ARN: 'arn:aws:sns:us-east-1:1:err',
};

describe('configFromEnv', () => {
  it('fills defaults and round-trips through configToEnv', () => {
    const config = configFromEnv(env);
    expect(config).toMatchObject({ outputPrefix: 'renditions/', workPrefix: 'work/', assetsPrefix: 'assets/', leaseSeconds: 900 });
    expect(config.recipe.renditions.map((rendition) => rendition.width)).toEqual([320, 1024, 2048]);
    expect(configFromEnv(configToEnv(config))).toEqual(config);
  });

  it('names a missing variable', () => {
    const { IMGFLOW_JOBS_TABLE: _, ...missing } = env;
    expect(() => configFromEnv(missing)).toThrow(ConfigurationError);
    expect(() => configFromEnv(missing)).toThrow(/^Environment variable IMGFLOW_JOBS_TABLE is missing/);
  });

  it('refuses overlapping prefixes, which would let outputs or work objects collide', () => {
    expect(() => configFromEnv({ ...env, IMGFLOW_WORK_PREFIX: 'renditions/work/' })).toThrow(/must not overlap/);
  });

  it('reports a bad recipe as the recipe error, naming the field', () => {
    expect(() => configFromEnv({ ...env, IMGFLOW_RECIPE: '{"renditions":[{"name":"a","width":-1}]}' })).toThrow(
      'Expected a number >= 1 for recipe.renditions[0].width but received -1 of type number',
    );
  });
});
