import { PERMANENT_ERROR_NAMES, TRANSIENT_ERROR_NAMES, parseRecipe } from '@imgflow/image-core';
import { PERMANENT_FAILURE_NAMES, REJECTION_ERROR_NAMES, RETRYABLE_ERROR_NAMES } from '@imgflow/pipeline';
import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type AslState,
  DEFAULT_RETRY,
  LocalStack,
  loadTemplate,
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
      expect(Object.keys(localHandlers(definition, stack.deps, stack.faults)).sort()).toEqual(
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

  it('retries only transient errors, and every transient error of the steps is retried', async () => {
    const definition = await renderDefinition();
    const permanent = new Set<string>([...PERMANENT_ERROR_NAMES, ...REJECTION_ERROR_NAMES, ...PERMANENT_FAILURE_NAMES]);
    for (const [name, state] of allStates(definition)) {
      const retriers = (state.Retry as Array<{ ErrorEquals: string[]; JitterStrategy?: string; BackoffRate?: number }> | undefined) ?? [];
      for (const retrier of retriers) {
        for (const error of retrier.ErrorEquals) {
          expect(permanent.has(error), `${name} retries permanent ${error}`).toBe(false);
          expect(RETRYABLE_ERROR_NAMES as readonly string[], `${name} retries ${error}`).toContain(error);
        }
        expect(retrier.JitterStrategy).toBe('FULL');
        expect(retrier.BackoffRate).toBeGreaterThan(1);
      }
      if (['ResizeImage', 'ApplyFilters', 'OptimizeImage', 'ValidateImage'].includes(name)) {
        const retried = retriers.flatMap((retrier) => retrier.ErrorEquals);
        for (const transient of [...TRANSIENT_ERROR_NAMES, 'StorageUnavailableError', 'LedgerUnavailableError']) {
          expect(retried, `${name} should retry ${transient}`).toContain(transient);
        }
      }
    }
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
    expect(DEFAULT_RETRY.retry_max_attempts).toBe(3);
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
    const largest = parseRecipe({
      formats: ['avif', 'webp', 'jpeg', 'png'],
      encoding: { avif: { effort: 0 }, png: { compressionLevel: 1 } },
      renditions: Array.from({ length: 20 }, (_, index) => ({
        name: `rendition-with-a-long-name-${String(index).padStart(2, '0')}`,
        width: 16 + index * 8,
        ...(index % 2 ? { filters: [{ type: 'blur' as const }] } : {}),
      })),
    });
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
