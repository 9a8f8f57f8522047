// Summary statistics for the benchmark samples: nearest-rank percentiles over sorted copies, so a
// reported p99 is always a latency that really happened.

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: samples.length,
    min: round(Math.min(...samples)),
    p50: round(median(samples)),
    p90: round(percentile(samples, 90)),
    p99: round(percentile(samples, 99)),
    max: round(Math.max(...samples)),
    mean: round(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)),
  };
}

/** Milliseconds since `start` (a performance.now() value), to 0.01 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
