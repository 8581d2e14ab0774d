/**
 * A child process that does, for one file, all the image work of the workflow — validate the
 * header against the default limits, decode once, derive every rendition of the default recipe,
 * encode every format — and prints, as one JSON line, how it ended and the process's peak
 * resident memory. That is more than any single Lambda does (each runs one step), so a figure
 * under 1024 MB means every step fits a 1024 MB function. The emulators stay out of the figure.
 *
 * Usage: node dist/child.js <file>
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { DEFAULT_LIMITS, DEFAULT_RECIPE, ImageError, render, validateImage } from '@imgflow/image-core';

const [file] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: child.js <file>\n');
  process.exit(2);
}
let result: { status: string; code?: string; message?: string; outputs: number };
try {
  let input: Buffer | undefined = await readFile(file);
  const info = await validateImage(input, DEFAULT_LIMITS);
  const { outputs } = await render(input, DEFAULT_RECIPE, { info, limits: DEFAULT_LIMITS });
  input = undefined;
  result = { status: 'SUCCEEDED', outputs: outputs.length };
} catch (error) {
  if (!(error instanceof ImageError)) throw error;
  result = { status: error.permanent ? 'REJECTED' : 'FAILED', code: error.code, message: error.message, outputs: 0 };
}
/**
 * Peak RSS of this process. Linux keeps getrusage's ru_maxrss across fork and exec, so a child
 * would report its parent's peak if that was higher; VmHWM belongs to this address space only.
 */
function peakRssMb(): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm) return Math.round(Number(hwm) / 1024);
  } catch {
    // Not Linux: getrusage is the best there is.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

process.stdout.write(`${JSON.stringify({ ...result, maxRssMb: peakRssMb() })}\n`);
