import type { JobRecord, JobStatus, OutputRecord } from '@imgflow/pipeline';

/** A job as the Jobs view and its JSON show it. */
export interface JobSummary {
  jobId: string;
  status: JobStatus;
  sourceKey: string;
  size: number;
  format?: string;
  width?: number;
  height?: number;
  reasonCode?: string;
  reasonMessage?: string;
  /** Milliseconds spent in the steps' handlers (the ledger's timings, summed). */
  stepMs?: number;
  renditions: number;
  bytesOut: number;
  cacheHit: boolean;
  /** Whether a thumbnail can be shown (a rendition in a format every browser reads). */
  thumbnail: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Formats every browser shows in an <img>: the thumbnail is picked among these. */
const BROWSER_FORMATS = new Set(['webp', 'jpeg', 'jpg', 'png', 'avif', 'gif']);

export function stepMillis(record: Pick<JobRecord, 'timings'>): number | undefined {
  const values = Object.values(record.timings ?? {}).filter((value): value is number => typeof value === 'number');
  return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) : undefined;
}

/** The smallest rendition a browser can show (WebP or JPEG first), for a thumbnail. */
export function thumbnailOutput(record: Pick<JobRecord, 'outputs'>): OutputRecord | undefined {
  const preference = ['webp', 'jpeg', 'png', 'avif'];
  const candidates = (record.outputs ?? []).filter((output) => BROWSER_FORMATS.has(output.format));
  return candidates.sort((a, b) => a.width - b.width || preference.indexOf(a.format) - preference.indexOf(b.format))[0];
}

export function summarize(record: JobRecord): JobSummary {
  const stepMs = stepMillis(record);
  return {
    jobId: record.jobId,
    status: record.status,
    sourceKey: record.sourceKey,
    size: record.size,
    ...(record.format ? { format: record.format } : {}),
    ...(record.width !== undefined ? { width: record.width } : {}),
    ...(record.height !== undefined ? { height: record.height } : {}),
    ...(record.reasonCode ? { reasonCode: record.reasonCode } : {}),
    ...(record.reasonMessage ? { reasonMessage: record.reasonMessage } : {}),
    ...(stepMs !== undefined ? { stepMs } : {}),
    renditions: record.outputs?.length ?? 0,
    bytesOut: (record.outputs ?? []).reduce((sum, output) => sum + output.bytes, 0),
    cacheHit: record.cacheHit === true,
    thumbnail: thumbnailOutput(record) !== undefined,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** 1 − out/in: the share of the original's bytes a rendition saved (negative when it is larger). */
export function savings(bytesOut: number, bytesIn: number): number {
  return bytesIn > 0 ? 1 - bytesOut / bytesIn : 0;
}

/** The value below which `p` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

export interface Totals {
  images: number;
  byStatus: Partial<Record<JobStatus, number>>;
  /** Bytes of the originals of every job, and of their renditions. */
  bytesIn: number;
  bytesOut: number;
  /** Per output format: outputs, their bytes, their originals' bytes, and the savings. */
  formats: Array<{ format: string; outputs: number; bytesIn: number; bytesOut: number; savings: number }>;
  /** Step time of the finished jobs (ms). */
  p50Ms?: number;
  p95Ms?: number;
  reasons: Array<{ code: string; count: number }>;
}

export function totals(records: readonly JobRecord[]): Totals {
  const byStatus: Partial<Record<JobStatus, number>> = {};
  const formats = new Map<string, { outputs: number; bytesIn: number; bytesOut: number }>();
  const reasons = new Map<string, number>();
  const times: number[] = [];
  let bytesIn = 0;
  let bytesOut = 0;
  for (const record of records) {
    byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
    bytesIn += record.size;
    for (const output of record.outputs ?? []) {
      bytesOut += output.bytes;
      const entry = formats.get(output.format) ?? { outputs: 0, bytesIn: 0, bytesOut: 0 };
      entry.outputs += 1;
      entry.bytesIn += record.size;
      entry.bytesOut += output.bytes;
      formats.set(output.format, entry);
    }
    if (record.reasonCode) reasons.set(record.reasonCode, (reasons.get(record.reasonCode) ?? 0) + 1);
    const millis = stepMillis(record);
    if (millis !== undefined && record.status !== 'PENDING' && record.status !== 'PROCESSING') times.push(millis);
  }
  times.sort((a, b) => a - b);
  const p50 = percentile(times, 0.5);
  const p95 = percentile(times, 0.95);
  return {
    images: records.length,
    byStatus,
    bytesIn,
    bytesOut,
    formats: [...formats.entries()]
      .map(([format, entry]) => ({ format, ...entry, savings: savings(entry.bytesOut, entry.bytesIn) }))
      .sort((a, b) => a.format.localeCompare(b.format)),
    ...(p50 !== undefined ? { p50Ms: p50 } : {}),
    ...(p95 !== undefined ? { p95Ms: p95 } : {}),
    reasons: [...reasons.entries()].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
  };
}
