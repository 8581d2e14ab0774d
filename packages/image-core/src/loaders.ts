import sharp from 'sharp';
import type { InputFormat } from './formats.js';

/**
 * Defence in depth behind the sniffer (admitFormat): the libvips loaders of formats a deployment
 * does not accept are blocked, so a sniffer bug cannot hand them bytes. A blocked loader is
 * skipped when libvips looks for one, so such bytes fail as "unsupported image format".
 *
 * Never blocked, whatever the limits: the JPEG, PNG, WebP, GIF and TIFF loaders. imgflow itself
 * reads PNG (watermark overlays) and TIFF (the working image when a recipe keeps the ICC
 * profile), watermark assets may be any of them, and the sniffer is the gate for these.
 * The heif loader reads both AVIF and HEIC: it is blocked only when neither is accepted.
 */

/** Loaders (libvips class names, a base class covers its file/buffer/source variants) of formats imgflow never reads. */
const NEVER_READ = [
  'VipsForeignLoadJp2k',
  'VipsForeignLoadJxl',
  'VipsForeignLoadMagick',
  'VipsForeignLoadOpenslide',
  'VipsForeignLoadFits',
  'VipsForeignLoadMatrix',
  'VipsForeignLoadCsv',
  'VipsForeignLoadVips',
  'VipsForeignLoadPpm',
  'VipsForeignLoadRad',
  'VipsForeignLoadAnalyze',
  'VipsForeignLoadMat',
  'VipsForeignLoadNifti',
  'VipsForeignLoadOpenexr',
  'VipsForeignLoadDcRaw',
  'VipsForeignLoadRaw',
];

/** Loaders a deployment may need, each with the input formats that need it. */
const BY_FORMAT: ReadonlyArray<{ loader: string; formats: readonly InputFormat[] }> = [
  { loader: 'VipsForeignLoadSvg', formats: ['svg'] },
  { loader: 'VipsForeignLoadPdf', formats: ['pdf'] },
  { loader: 'VipsForeignLoadHeif', formats: ['avif', 'heic'] },
];

/** The loaders guardLoaders blocks for these accepted formats. */
export function blockedLoaders(acceptedFormats: readonly InputFormat[]): string[] {
  const conditional = BY_FORMAT.filter(({ formats }) => !formats.some((format) => acceptedFormats.includes(format))).map(({ loader }) => loader);
  return [...conditional, ...NEVER_READ];
}

let applied: string | undefined;

/**
 * Blocks, for the whole process, the libvips loaders of the formats not accepted (and unblocks
 * the conditional ones that are); returns the blocked list. sharp.block is process-wide, so
 * this belongs where a process learns its deployment's limits, once: a Lambda's cold start
 * (fn-validate's entry point). Calling it again with the same formats does nothing; with other
 * formats the latest call wins. A process that also draws pictures with librsvg (the sample
 * generator, the local runtime running every handler in one process) does not call it.
 */
export function guardLoaders(acceptedFormats: readonly InputFormat[]): string[] {
  const blocked = blockedLoaders(acceptedFormats);
  const key = blocked.join(',');
  if (applied !== key) {
    const allowed = BY_FORMAT.map(({ loader }) => loader).filter((loader) => !blocked.includes(loader));
    if (allowed.length > 0) sharp.unblock({ operation: allowed });
    sharp.block({ operation: blocked });
    applied = key;
  }
  return blocked;
}
