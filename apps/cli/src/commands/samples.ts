import { resolve } from 'node:path';
import { DEMO_SAMPLES, writeSamples } from '@imgflow/samples';
import { EXIT_OK } from '../errors.js';
import { type Io, println, withExitCode } from '../io.js';
import { formatBytes } from '../ui/format.js';

export interface SamplesOptions {
  dir: string;
  cwd?: string;
}

/** Writes the demo's photo-like sample images (generated here: imgflow ships no third-party images). */
export async function makeSamples(options: SamplesOptions, io: Io): Promise<number> {
  return withExitCode('samples', io, async () => {
    const dir = resolve(options.cwd ?? process.cwd(), options.dir);
    const paths = await writeSamples(dir);
    const { stat } = await import('node:fs/promises');
    for (const [index, path] of paths.entries()) {
      const sample = DEMO_SAMPLES[index];
      println(io.stdout, `${path}  ${sample?.width}×${sample?.height} ${sample?.format}  ${formatBytes((await stat(path)).size)}`);
    }
    println(io.stdout, `${paths.length} sample images in ${dir}`);
    return EXIT_OK;
  });
}
