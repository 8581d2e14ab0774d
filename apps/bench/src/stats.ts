/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  const highValue = sorted[high] as number;
  return lowValue + (highValue - lowValue) * (rank - low);
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export function geomean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.exp(mean(values.map((value) => Math.log(value))));
}

/** How one variant compares with another over pairs measured together (same image, same repetition). */
export interface PairedRatio {
  pairs: number;
  /** Σ variant / Σ baseline over the pairs: the ratio of the means per image. The targets use it. */
  ofTotals: number;
  geomean: number;
  median: number;
  min: number;
  max: number;
}

export function pairedRatio(pairs: ReadonlyArray<readonly [number, number]>): PairedRatio {
  const valid = pairs.filter(([value, baseline]) => value > 0 && baseline > 0);
  const ratios = valid.map(([value, baseline]) => value / baseline);
  return {
    pairs: valid.length,
    ofTotals: sum(valid.map(([value]) => value)) / sum(valid.map(([, baseline]) => baseline)),
    geomean: geomean(ratios),
    median: percentile(ratios, 50),
    min: ratios.length ? Math.min(...ratios) : Number.NaN,
    max: ratios.length ? Math.max(...ratios) : Number.NaN,
  };
}
