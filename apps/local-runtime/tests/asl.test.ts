import { STEP_NAMES, type StepName, contract, errorKind, retryErrors, step, stepOfState, worstCaseSeconds } from '@imgflow/contract';
import { type RecipeInput, parseRecipe } from '@imgflow/image-core';
import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type AslState,
  LocalStack,
  loadTemplate,
  localEnvironment,
  localHandlers,
  localAslVariables,
  renderDefinition,
  renderTemplate,
  taskStates,
  templatePlaceholders,
  validateDefinition,
} from '../src/index.js';
import { photoJpeg, uploadAndWait } from './helpers.js';

function allStates(definition: AslDefinition): Array<[string, AslState]> {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...(state.Branches ?? []).flatMap((branch) => allStates(branch)),
  ]);
}

describe('the ASL template', () => {
  it('has exactly the placeholders the local runtime (and Terraform) pass', async () => {
    expect(templatePlaceholders(await loadTemplate())).toEqual(Object.keys(localAslVariables()).sort());
  });

  it('renders to a definition that passes asl-validator', async () => {
    const definition = await renderDefinition();
    expect(validateDefinition(definition)).toEqual({ valid: true, errors: [] });
  });

  it('maps every Task state to a real handler', async () => {
    const definition = await renderDefinition();
    expect(taskStates(definition).map((task) => task.name).sort()).toEqual(
      ['ApplyFilters', 'NotifyError', 'NotifySuccess', 'OptimizeImage', 'ResizeImage', 'ValidateImage'].sort(),
    );
    const stack = await LocalStack.start();
    try {
      expect(Object.keys(localHandlers(definition, stack.functions, stack.faults, {}, stack.iam)).sort()).toEqual(
        taskStates(definition).map((task) => task.name).sort(),
      );
    } finally {
      await stack.stop();
    }
    const unknown = structuredClone(definition);
    (unknown.States.OptimizeImage as AslState).Resource = 'arn:aws:lambda:us-east-1:000000000000:function:imgflow-sharpen';
    expect(() => localHandlers(unknown, {} as never, {} as never)).toThrow(
      'Task state OptimizeImage invokes arn:aws:lambda:us-east-1:000000000000:function:imgflow-sharpen, which no local handler implements',
    );
  });

  it('retries exactly the contract\'s retry-kind errors of each step, and never a reject or fail kind', async () => {
    const definition = await renderDefinition();
    const tasks = allStates(definition).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(STEP_NAMES.flatMap((name) => step(name).states).sort());
    for (const [name, state] of tasks) {
      const stepName = stepOfState(name);
      expect(stepName, `${name} belongs to a step of the contract`).toBeDefined();
      const retriers = (state.Retry as Array<{ ErrorEquals: string[]; JitterStrategy?: string; BackoffRate?: number; MaxAttempts?: number }> | undefined) ?? [];
      expect(retriers).toHaveLength(1);
      const [retrier] = retriers;
      expect(retrier?.ErrorEquals).toEqual(retryErrors(stepName as never));
      for (const error of retrier?.ErrorEquals ?? []) expect(errorKind(error), `${name} retries ${error}`).toBe('retry');
      expect(retrier?.JitterStrategy).toBe(contract.retry.jitter_strategy);
      expect(retrier?.MaxAttempts).toBe(contract.retry.max_attempts);
      expect(retrier?.BackoffRate).toBeGreaterThan(1);
    }
    // The transient errors each working step can raise are among those retried.
    for (const name of ['ValidateImage', 'ResizeImage', 'ApplyFilters', 'OptimizeImage']) {
      const [, state] = tasks.find(([task]) => task === name) ?? [];
      const retried = ((state?.Retry as Array<{ ErrorEquals: string[] }>) ?? []).flatMap((retrier) => retrier.ErrorEquals);
      expect(retried, name).toContain('ImageProcessingError');
      expect(retried, name).toContain('StorageUnavailableError');
      expect(retried, name).toContain('Lambda.TooManyRequestsException');
    }
  });

  it('gives every Task a TimeoutSeconds just above its function\'s timeout, so Lambda\'s own timeout fires first', async () => {
    const definition = await renderDefinition();
    for (const [name, state] of allStates(definition).filter(([, each]) => each.Type === 'Task')) {
      const stepName = stepOfState(name) as StepName;
      expect(state.TimeoutSeconds, name).toBe(step(stepName).timeout_seconds + contract.workflow.task_timeout_margin_seconds);
    }
    const shorter = await renderDefinition(localAslVariables({}, {}, { resize: 0.3 }));
    expect(taskStates(shorter).length).toBe(6);
    expect(allStates(shorter).find(([name]) => name === 'ResizeImage')?.[1].TimeoutSeconds).toBe(2);
  });

  it('fits the default configuration inside an Express execution\'s 5 minutes, by the plan-time rule', () => {
    expect(worstCaseSeconds()).toBeLessThanOrEqual(contract.workflow.max_duration_seconds.EXPRESS);
    expect(worstCaseSeconds({ optimize: 120 })).toBeGreaterThan(contract.workflow.max_duration_seconds.EXPRESS);
  });

  it('has no hand-written ErrorEquals list: every one is a placeholder rendered from the contract', async () => {
    const template = await loadTemplate();
    expect(template).not.toMatch(/"ErrorEquals":\s*\[/);
    expect([...template.matchAll(/"ErrorEquals":\s*\$\{(\w+)\}/g)].length).toBeGreaterThan(0);
  });

  it('catches every failure of a working state into NotifyError, and a failed notification into NotificationFailed', async () => {
    const definition = await renderDefinition();
    for (const name of ['ValidateImage', 'ProcessImage', 'OptimizeImage']) {
      expect(definition.States[name]?.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyError' }]);
    }
    for (const name of ['NotifySuccess', 'NotifyError']) {
      expect(definition.States[name]?.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.notifyError', Next: 'NotificationFailed' }]);
    }
  });

  it('renders retry settings given as variables', async () => {
    const definition = await renderDefinition(localAslVariables({ retry_max_attempts: 6, retry_interval_seconds: 2 }));
    const [retrier] = (definition.States.OptimizeImage?.Retry ?? []) as Array<{ MaxAttempts: number; IntervalSeconds: number }>;
    expect(retrier).toMatchObject({ MaxAttempts: 6, IntervalSeconds: 2 });
    expect(contract.retry.max_attempts).toBe(3);
  });
});

// Template text with literal ${…} placeholders is the point of these tests.
/* biome-ignore-start lint/suspicious/noTemplateCurlyInString: templatefile syntax under test */
describe('renderTemplate (templatefile rules)', () => {
  it('replaces ${name}, keeps $${literal}, and refuses missing or unused values', () => {
    expect(renderTemplate('{"a": "${x}", "b": "$${y}"}', { x: 'one' })).toBe('{"a": "one", "b": "${y}"}');
    expect(() => renderTemplate('${x} ${z}', { x: 1 })).toThrow('The template uses ${z} but no value was given for it');
    expect(() => renderTemplate('${x}', { x: 1, extra: 2 })).toThrow('Values given for variables the template does not use: extra');
  });
});
/* biome-ignore-end lint/suspicious/noTemplateCurlyInString: templatefile syntax under test */

describe('state payload', () => {
  it('stays far below the 256 KiB limit: measured for the default recipe and for the largest recipe allowed', async () => {
    const stack = await LocalStack.start();
    let defaultBytes = 0;
    try {
      const { reports } = await uploadAndWait(stack, 'payload/default.jpg', await photoJpeg(2200, 1400));
      defaultBytes = reports[0]?.maxPayloadBytes ?? 0;
    } finally {
      await stack.stop();
    }
    // As a deployment's recipe_json holds it (the parsed recipe, every default filled in, would
    // not fit Lambda's 4 KB environment).
    const largest: RecipeInput = {
      formats: ['avif', 'webp', 'jpeg', 'png'],
      encoding: { avif: { effort: 0 }, png: { compressionLevel: 1 } },
      renditions: Array.from({ length: 20 }, (_, index) => ({
        name: `rendition-with-a-long-name-${String(index).padStart(2, '0')}`,
        width: 16 + index * 8,
        ...(index % 2 ? { filters: [{ type: 'blur' as const }] } : {}),
      })),
    };
    parseRecipe(largest);
    const big = await LocalStack.start({ recipe: largest });
    let largestBytes = 0;
    try {
      const { reports, record } = await uploadAndWait(big, 'payload/a-rather-long-folder-name/and-a-long-file-name-too.jpg', await photoJpeg(400, 300));
      expect(record?.outputs).toHaveLength(80);
      largestBytes = reports[0]?.maxPayloadBytes ?? 0;
    } finally {
      await big.stop();
    }
    console.info(`largest state payload: default recipe ${defaultBytes} B, 20 renditions × 4 formats ${largestBytes} B`);
    expect(defaultBytes).toBeGreaterThan(0);
    expect(defaultBytes).toBeLessThan(16 * 1024);
    expect(largestBytes).toBeLessThan(64 * 1024);
  });
});

describe('the Lambda environment, as the functions module sets it', () => {
  it('refuses a recipe that would not fit Lambda\'s 4 KB environment, as the Terraform plan does', async () => {
    const renditions = Array.from({ length: 20 }, (_, index) => ({
      name: `rendition-with-a-long-name-${index}`,
      width: 100 + index,
      filters: [
        { type: 'sharpen' as const, sigma: 1 },
        { type: 'modulate' as const, brightness: 1.1, saturation: 1.2 },
        { type: 'tint' as const, color: '#336699' },
      ],
    }));
    const recipe = { version: '1' as const, renditions, formats: ['avif' as const, 'webp' as const, 'jpeg' as const] };
    parseRecipe(recipe);
    expect(JSON.stringify(recipe).length).toBeGreaterThan(3072);
    const error = await LocalStack.start({ recipe }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ConfigurationError');
    expect((error as Error).message).toMatch(/^The recipe and limits JSON take \d+ bytes of the Lambda environment; at most 3072 fit beside the other IMGFLOW_\* settings/);
  });

  it('builds the configuration through configFromEnv, the parser the Lambdas use', () => {
    const environment = localEnvironment({ outputBucket: 'out', jobsTable: 'jobs', successTopicArn: 'arn:aws:sns:x', errorTopicArn: 'arn:aws:sns:y', leaseSeconds: 60 });
    expect(environment).toEqual({
      IMGFLOW_OUTPUT_BUCKET: 'out',
      IMGFLOW_JOBS_TABLE: 'jobs',
      IMGFLOW_SUCCESS_TOPIC_ARN: 'arn:aws:sns:x',
      IMGFLOW_ERROR_TOPIC_ARN: 'arn:aws:sns:y',
      IMGFLOW_LIMITS: '{}',
      IMGFLOW_LEASE_SECONDS: '60',
    });
  });
});
