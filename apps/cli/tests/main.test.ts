import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { captureIo } from './helpers.js';

describe('main (commander wiring)', () => {
  it('--help lists every command and exits 0', async () => {
    const io = captureIo();
    expect(await main(['--help'], io)).toBe(0);
    for (const command of ['run', 'status', 'asl', 'dev', 'submit']) expect(io.out()).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
  });

  it('a missing argument is one line naming it, exit 2', async () => {
    const io = captureIo();
    expect(await main(['run'], io)).toBe(2);
    expect(io.err()).toBe("imgflow run: missing required argument 'paths'\n");
  });

  it('an unknown option and a bad --status choice exit 2', async () => {
    const unknown = captureIo();
    expect(await main(['run', 'x', '--fast'], unknown)).toBe(2);
    expect(unknown.err()).toBe("imgflow run: unknown option '--fast'\n");

    const choice = captureIo();
    expect(await main(['status', '--status', 'done'], choice)).toBe(2);
    expect(choice.err()).toMatch(/^imgflow status: option '--status <status>' argument 'done' is invalid/);
  });

  it('passes options through to the command (bad --concurrency from the command line)', async () => {
    const io = captureIo();
    expect(await main(['run', 'photos', '--concurrency', '0'], io)).toBe(2);
    expect(io.err()).toBe('imgflow run: --concurrency must be an integer from 1 to 64, got "0"\n');
  });

  it('asl validate through main prints valid', async () => {
    const io = captureIo();
    expect(await main(['asl', 'validate'], io)).toBe(0);
    expect(io.out()).toBe('valid\n');
  });
});

describe('imgflow samples', () => {
  it('writes the demo images, photo-like and of the documented sizes', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const sharp = (await import('sharp')).default;
    const { DEMO_SAMPLES } = await import('@imgflow/samples');
    const { makeSamples } = await import('../src/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'imgflow-samples-'));
    const io = captureIo();
    expect(await makeSamples({ dir }, io)).toBe(0);
    for (const sample of DEMO_SAMPLES) {
      const metadata = await sharp(join(dir, sample.name)).metadata();
      expect([metadata.width, metadata.height, metadata.format]).toEqual([sample.width, sample.height, sample.format]);
    }
    expect(io.out()).toContain(`${DEMO_SAMPLES.length} sample images in ${dir}`);
  });
});
