import { contract } from '@imgflow/contract';
import { describe, expect, it } from 'vitest';
import * as pipeline from '../../src/index.js';
import { AccessDeniedError, PipelineError, SourceMissingError, StorageUnavailableError } from '../../src/index.js';

describe('pipeline errors and the workflow contract', () => {
  it('declares every error class in the contract, and the contract names no class the pipeline lacks', () => {
    const classes = Object.entries(pipeline)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof PipelineError)
      .map(([name]) => name)
      .sort();
    const declared = Object.entries(contract.errors)
      .filter(([, error]) => error.source === '@imgflow/pipeline')
      .map(([name]) => name)
      .sort();
    expect(classes).toEqual(declared);
  });

  it('takes each kind from the contract', () => {
    expect(new SourceMissingError('gone').kind).toBe('reject');
    expect(new AccessDeniedError('denied').kind).toBe('fail');
    expect(new StorageUnavailableError('503').kind).toBe('retry');
    expect(new StorageUnavailableError('503').permanent).toBe(false);
    expect(new AccessDeniedError('denied').permanent).toBe(true);
  });
});
