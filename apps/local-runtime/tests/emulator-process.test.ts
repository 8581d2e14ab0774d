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
      const report = await stack.execute(objectCreatedEvent(object));
      expect(report.path.at(-1)).toBe('Done');
      expect(report.invocations).toEqual({ ValidateImage: 1, ResizeImage: 1, ApplyFilters: 1, OptimizeImage: 1, NotifySuccess: 1 });
      expect(() => stack.enableTrigger()).toThrow('The trigger needs the S3 emulator in this process; with emulators elsewhere, call execute()');
    } finally {
      await stack.stop();
    }
    expect(() => process.kill(emulators.pid, 0)).toThrow();
  });
});
