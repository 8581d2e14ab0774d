import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ContractSchema,
  FUNCTION_KEYS,
  SCHEDULE_PATTERN,
  STEP_NAMES,
  SWEEPER_FUNCTION,
  contract,
  contractJsonSchema,
  errorKind,
  errorNames,
  functionName,
  functionPackage,
  retryErrors,
  step,
  stepOfFunction,
  stepOfState,
  sweeper,
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
    expect(ContractSchema.safeParse(unused).error?.issues[0]?.message).toBe('OrphanError is declared but no step raises it (nor the sweeper records it)');

    const twice = raw() as { steps: { filter: { states: string[] } } };
    twice.steps.filter.states.push('ResizeImage');
    expect(ContractSchema.safeParse(twice).error?.issues[0]?.message).toBe('State ResizeImage belongs to two steps');

    const badKind = raw() as { errors: { InvalidImageError: { kind: string } } };
    badKind.errors.InvalidImageError.kind = 'maybe';
    expect(ContractSchema.safeParse(badKind).success).toBe(false);
  });

  it('declares the sweeper outside the steps: its own function, package, schedule and the reason it records', () => {
    expect(STEP_NAMES).not.toContain('sweep');
    expect(SWEEPER_FUNCTION).toBe('sweep');
    expect(FUNCTION_KEYS).toEqual([...STEP_NAMES, 'sweep']);
    expect(functionName('imgflow', SWEEPER_FUNCTION)).toBe('imgflow-sweep');
    expect(functionPackage('sweep')).toBe('@imgflow/fn-sweep');
    expect(functionPackage('resize')).toBe('@imgflow/fn-resize');
    expect(stepOfFunction('imgflow', 'imgflow-sweep')).toBeUndefined();
    expect(sweeper()).toMatchObject({ package: '@imgflow/fn-sweep', memory_mb: 256, timeout_seconds: 60, schedule: 'rate(5 minutes)' });
    expect(sweeper().abandoned).toEqual({ error: 'ExecutionAbandonedError', code: 'EXECUTION_ABANDONED' });
    expect(errorKind(sweeper().abandoned.error)).toBe('fail');
    // Recorded by the sweeper, never raised by a Task: no Retry or Catch lists it.
    for (const name of STEP_NAMES) expect(step(name).errors).not.toContain('ExecutionAbandonedError');
  });

  it('accepts EventBridge schedule expressions and refuses others', () => {
    for (const good of ['rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'rate(12 hours)', 'cron(0/5 * * * ? *)']) expect(good).toMatch(SCHEDULE_PATTERN);
    for (const bad of ['rate(5 minute)', 'rate(1 minutes)', 'rate(0 minutes)', 'every 5 minutes', 'cron(* * *)']) expect(bad).not.toMatch(SCHEDULE_PATTERN);
  });

  it('refuses a sweeper reason that is undeclared or not of kind fail', () => {
    const undeclared = raw() as { sweeper: { abandoned: { error: string } } };
    undeclared.sweeper.abandoned.error = 'GoneError';
    expect(ContractSchema.safeParse(undeclared).error?.issues.map((issue) => issue.message)).toContain('The sweeper records GoneError, which errors does not declare');

    const retried = raw() as { errors: { ExecutionAbandonedError: { kind: string } } };
    retried.errors.ExecutionAbandonedError.kind = 'retry';
    expect(ContractSchema.safeParse(retried).error?.issues[0]?.message).toBe('The sweeper records ExecutionAbandonedError as FAILED: its kind must be "fail"');
  });

  it('matches its committed JSON Schema (pnpm --filter @imgflow/contract schema rewrites it)', () => {
    expect(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'))).toEqual(contractJsonSchema());
    expect(raw().$schema).toBe('./contract.schema.json');
  });
});
