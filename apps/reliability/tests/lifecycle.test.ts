import { describe, expect, it } from 'vitest';
import { runLifecycleScenarios } from '../src/lifecycle.js';

describe('lifecycle scenarios: whatever stops an execution, nothing stays PROCESSING', () => {
  it('every scenario ends each job terminal, notified once, with no work left', async () => {
    const results = await runLifecycleScenarios();
    for (const result of results) expect([result.name, result.status, result.code, ...result.problems], result.name).toEqual([result.name, result.status, result.code]);
    expect(results.map((result) => [result.status, result.code ?? ''])).toEqual([
      ['FAILED', 'EXECUTION_ABANDONED'],
      ['FAILED', 'EXECUTION_ABANDONED'],
      ['SUCCEEDED', ''],
      ['FAILED', 'LAMBDA_ERROR'],
      ['SUCCEEDED', ''],
      ['SUCCEEDED', ''],
    ]);
    expect(results.reduce((sum, result) => sum + result.leftProcessing + result.duplicateNotifications, 0)).toBe(0);
    // The throttling scenario must have been throttled and retried.
    expect(results[4]?.fired).toBeGreaterThan(0);
    expect(results[4]?.retries).toBeGreaterThan(0);
  }, 300_000);
});
