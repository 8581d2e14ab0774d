import { describe, expect, it } from 'vitest';
import { LocalStack, spawnEmulators } from '../src/index.js';
import { objectCreatedEvent, photoJpeg } from './helpers.js';

describe('emulators in another process', () => {
  it('run the same workflow with the handlers in this process, and the trigger says why it cannot run', async () => {
    const emulators = await spawnEmulators();
    expect(emulators.pid).not.toBe(process.pid);
    const stack = await LocalStack.start({ emulators, retryPauseMs: 5 });
    try {
      const object = await stack.upload('remote/a.jpg', await photoJpeg(400, 300, 61));
      // The child's S3 is the strict one too: the upload bucket is versioned, as in this process.
      expect(object.versionId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const report = await stack.execute(objectCreatedEvent(object));
      expect(report.path.at(-1)).toBe('Done');
      // A per-key DeleteObjects fault reaches the child's S3 with the request: the clean-up is retried.
      stack.faults.failDeleteKeys({ times: 1, keys: stack.config.workPrefix, code: 'SlowDown' });
      const again = await stack.upload('remote/b.jpg', await photoJpeg(200, 150, 62));
      const retried = await stack.execute(objectCreatedEvent(again));
      expect(retried).toMatchObject({ status: 'SUCCEEDED', invocations: { NotifySuccess: 2 } });
      expect(report.invocations).toEqual({ ValidateImage: 1, ResizeImage: 1, ApplyFilters: 1, OptimizeImage: 1, NotifySuccess: 1 });
      expect(() => stack.enableTrigger()).toThrow('The trigger needs the S3 emulator in this process; with emulators elsewhere, call execute()');
    } finally {
      await stack.stop();
    }
    expect(() => process.kill(emulators.pid, 0)).toThrow();
  });
});
