import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ContractSchema,
  STEP_NAMES,
  contract,
  contractJsonSchema,
  errorKind,
  errorNames,
  functionName,
  retryErrors,
  step,
  stepOfFunction,
  stepOfState,
} from '../../src/index.js';

const CONTRACT_PATH = new URL('../../../../infra/modules/workflow/contract.json', import.meta.url);
const SCHEMA_PATH = new URL('../../../../infra/modules/workflow/contract.schema.json', import.meta.url);
const raw = (): Record<string, unknown> => JSON.parse(readFileSync(CONTRACT_PATH, 'utf8')) as Record<string, unknown>;

describe('the workflow contract', () => {
  it('lists the five steps in workflow order, each with its package, memory and timeout', () => {
    expect(STEP_NAMES).toEqual(['validate', 'resize', 'filter', 'optimize', 'notify']);
    for (const name of STEP_NAMES) {
      expect(step(name).package).toBe(`@imgflow/fn-${name}`);
      expect(step(name).timeout_seconds).toBeGreaterThan(0);
      expect(step(name).memory_mb).toBeGreaterThanOrEqual(128);
    }
  });

  it('maps states and function names to steps', () => {
    expect(stepOfState('NotifyError')).toBe('notify');
    expect(stepOfState('ApplyFilters')).toBe('filter');
    expect(stepOfState('IsValid')).toBeUndefined();
    expect(functionName('imgflow-dev', 'resize')).toBe('imgflow-dev-resize');
    expect(stepOfFunction('imgflow-dev', 'imgflow-dev-resize')).toBe('resize');
    expect(stepOfFunction('imgflow', 'imgflow-sharpen')).toBeUndefined();
  });

  it('retries a step\'s own retry-kind errors, then the platform\'s, never a reject or fail kind', () => {
    expect(retryErrors('notify')).toEqual([
      'StorageUnavailableError',
      'LedgerUnavailableError',
      'NotificationFailedError',
      ...contract.platform_errors.filter((name) => errorKind(name) === 'retry'),
    ]);
    for (const name of STEP_NAMES) {
      for (const error of retryErrors(name)) expect(errorKind(error)).toBe('retry');
      expect(retryErrors(name)).toContain('Lambda.TooManyRequestsException');
      expect(retryErrors(name)).toContain('Lambda.ClientExecutionTimeoutException');
    }
    expect(retryErrors('optimize')).not.toContain('NotificationFailedError');
  });

  it('gives every error exactly one kind', () => {
    const all = [...errorNames('retry'), ...errorNames('reject'), ...errorNames('fail')];
    expect(all.sort()).toEqual(Object.keys(contract.errors).sort());
    expect(errorKind('InvalidImageError')).toBe('reject');
    expect(errorKind('AccessDeniedError')).toBe('fail');
    expect(errorKind('Sandbox.Timedout')).toBe('fail');
    expect(errorKind('NoSuchError')).toBeUndefined();
  });

  it('defaults to EXPRESS with the documented retry policy', () => {
    expect(contract.workflow.default_type).toBe('EXPRESS');
    expect(contract.retry).toEqual({ interval_seconds: 1, max_attempts: 3, backoff_rate: 2, max_delay_seconds: 30, jitter_strategy: 'FULL' });
  });

  it('refuses a step raising an undeclared error, an unused declaration, and a state in two steps', () => {
    const undeclared = raw() as { steps: { resize: { errors: string[] } } };
    undeclared.steps.resize.errors.push('SharpenError');
    expect(ContractSchema.safeParse(undeclared).error?.issues[0]?.message).toBe('Step resize raises SharpenError, which errors does not declare');

    const unused = raw() as { errors: Record<string, unknown> };
    unused.errors.OrphanError = { kind: 'fail', source: '@imgflow/pipeline', description: 'nobody raises it' };
    expect(ContractSchema.safeParse(unused).error?.issues[0]?.message).toBe('OrphanError is declared but no step raises it');

    const twice = raw() as { steps: { filter: { states: string[] } } };
    twice.steps.filter.states.push('ResizeImage');
    expect(ContractSchema.safeParse(twice).error?.issues[0]?.message).toBe('State ResizeImage belongs to two steps');

    const badKind = raw() as { errors: { InvalidImageError: { kind: string } } };
    badKind.errors.InvalidImageError.kind = 'maybe';
    expect(ContractSchema.safeParse(badKind).success).toBe(false);
  });

  it('matches its committed JSON Schema (pnpm --filter @imgflow/contract schema rewrites it)', () => {
    expect(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'))).toEqual(contractJsonSchema());
    expect(raw().$schema).toBe('./contract.schema.json');
  });
});
