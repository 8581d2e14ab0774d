import { describe, expect, it } from 'vitest';
import { type FaultScenario, faultScenarios, raceScenario, runFaultScenarios } from '../src/faults.js';

const scenarios = faultScenarios();

describe('injected faults at every step', () => {
  it.each(scenarios.map((scenario) => [scenario.name, scenario] as [string, FaultScenario]))('%s', async (_name, scenario) => {
    const [result] = await runFaultScenarios([scenario]);
    expect(result?.problems).toEqual([]);
    expect(result?.fired).toBeGreaterThan(0);
    expect(result?.status).toBe(scenario.expect.status);
    if (scenario.expect.code) expect(result?.code).toBe(scenario.expect.code);
  });

  it('covers S3, DynamoDB, SNS and the handlers, transient and permanent', () => {
    const names = scenarios.map((scenario) => scenario.name).join('\n');
    for (const target of ['S3 GetObject', 'S3 PutObject', 'DynamoDB UpdateItem', 'DynamoDB GetItem throttled twice', 'SNS', 'handler crashes', 'timeout']) {
      expect(names).toContain(target);
    }
    expect(new Set(scenarios.map((scenario) => scenario.kind))).toEqual(new Set(['transient', 'permanent']));
  });

  it('lets exactly one of two simultaneous executions of one upload do the work', async () => {
    const result = await raceScenario();
    expect(result.problems).toEqual([]);
    expect(result.status).toBe('SUCCEEDED');
  });
});
