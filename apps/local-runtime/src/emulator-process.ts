import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EmulatorEndpoints, Emulators } from './emulators.js';
import { EMULATOR_BUCKETS } from './stack.js';

export interface EmulatorProcess extends Emulators {
  /** The child's process id, e.g. to read its CPU time apart from the handlers'. */
  pid: number;
}

/**
 * Starts the emulators (s3rver, dynalite, fauxqs) in a child process. The handlers then run in
 * this process without the servers' work mixed into its CPU time and memory, as on AWS, where
 * S3 and DynamoDB are not in the Lambda's bill. Used by the benchmark.
 */
export async function spawnEmulators(options: { dataDir?: string } = {}): Promise<EmulatorProcess> {
  const here = dirname(fileURLToPath(import.meta.url));
  // From the build (dist/) the child is dist/emulator-main.js; from source (tests) tsx is not
  // assumed, so the built file is used in both cases.
  const main = join(here, here.endsWith('src') ? '../dist/emulator-main.js' : 'emulator-main.js');
  const child: ChildProcess = spawn(process.execPath, [main, JSON.stringify({ buckets: EMULATOR_BUCKETS, ...options })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`The emulator process exited with ${String(code)} before it was ready`);
    }),
  ])) as [string];
  const endpoints = JSON.parse(first) as EmulatorEndpoints;
  return {
    endpoints,
    dataDir: options.dataDir ?? '',
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
