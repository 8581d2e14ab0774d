import { resolveLimits } from '@imgflow/image-core';
import type { ValidateResult } from '@imgflow/pipeline';
import { type FakeStepDeps, fakeDeps, fakeUpload, objectCreatedEvent } from '@imgflow/pipeline/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createValidateHandler, withGuardedLoaders } from '../../src/index.js';

// sharp.block is process-wide: this file runs in its own worker, like a Lambda process.

const EXECUTION = 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:first';
const SVG = Buffer.from(
  '<?xml version="1.0"?>\n<!DOCTYPE svg [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><text>&xxe;</text></svg>',
);

function run(deps: FakeStepDeps, body: Buffer, key: string): Promise<ValidateResult> {
  const source = fakeUpload(deps, key, body, 'image/svg+xml');
  const handler = createValidateHandler(withGuardedLoaders(() => deps));
  return handler({ event: objectCreatedEvent(source), executionId: EXECUTION });
}

describe('the validate Lambda blocks the loaders its limits refuse (withGuardedLoaders)', () => {
  it('with SVG off: the upload is FORMAT_NOT_ALLOWED naming SVG, and libvips itself no longer reads SVG', async () => {
    const deps = fakeDeps();
    const result = await run(deps, SVG, 'uploads/drawing.jpg');
    expect(result).toMatchObject({ outcome: 'rejected', rejection: { error: 'UnsupportedFormatError', code: 'FORMAT_NOT_ALLOWED' } });
    expect(result.outcome === 'rejected' && result.rejection.message).toMatch(/^SVG input is not accepted/);
    await expect(sharp(SVG).metadata()).rejects.toThrow(/unsupported image format/i);
  });

  it('with SVG on (a deployment that opts in): the SVG loader is unblocked and the upload is valid', async () => {
    const deps = fakeDeps({ config: { limits: resolveLimits({ acceptedFormats: ['jpeg', 'png', 'svg'] }) } });
    const plain = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>');
    const result = await run(deps, plain, 'uploads/drawing.svg');
    expect(result).toMatchObject({ outcome: 'valid', job: { format: 'svg', width: 40, height: 30 } });
  });
});
