import { describe, expect, it } from 'vitest';
import { rejectionFromCaught } from '../../src/notify.js';

describe('rejectionFromCaught', () => {
  it('reads the code and message from a local engine Cause ("CODE: message")', () => {
    expect(rejectionFromCaught({ Error: 'InvalidImageError', Cause: 'CORRUPT_IMAGE: Decoding the image: premature end' })).toEqual({
      error: 'InvalidImageError',
      code: 'CORRUPT_IMAGE',
      message: 'Decoding the image: premature end',
    });
  });

  it('reads the errorMessage out of the JSON Cause that Lambda gives on AWS', () => {
    const cause = JSON.stringify({ errorType: 'ImageTooLargeError', errorMessage: 'TOO_MANY_PIXELS: The image declares 9000×9000', trace: [] });
    expect(rejectionFromCaught({ Error: 'ImageTooLargeError', Cause: cause })).toEqual({
      error: 'ImageTooLargeError',
      code: 'TOO_MANY_PIXELS',
      message: 'The image declares 9000×9000',
    });
  });

  it.each([
    ['States.Timeout', 'STEP_TIMEOUT'],
    ['Sandbox.Timedout', 'LAMBDA_TIMEOUT'],
    ['Lambda.ServiceException', 'LAMBDA_ERROR'],
    ['TypeError', 'INTERNAL_ERROR'],
  ])('gives %s without a coded message the reason %s', (name, code) => {
    expect(rejectionFromCaught({ Error: name, Cause: 'something broke' })).toEqual({ error: name, code, message: 'something broke' });
  });

  it('falls back to the error name when there is no Cause', () => {
    expect(rejectionFromCaught({ Error: 'States.Timeout' }).message).toBe('States.Timeout');
  });
});
