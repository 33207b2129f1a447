/**
 * Summary statistics for benchmark samples. Pure functions; no thresholds, no judgement.
 */

/** The distribution of one set of samples (all in the samples' unit). */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The q-quantile (0 < q ≤ 1) by the nearest-rank method: the smallest sample with at least
 * q·n samples at or below it. With fewer than 100 samples, p99 is the maximum. NaN when empty.
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** Summarizes samples; every field is NaN (and n 0) when there are none. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, min: Number.NaN, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
  return {
    n: sorted.length,
    min: sorted[0],
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** A summary of exactly one sample (a figure measured once, such as a throughput). */
export function single(value: number): Summary {
  return { n: 1, min: value, p50: value, p99: value, max: value, mean: value };
}

/** `ours / reference`, or NaN when either is missing or the reference is 0. */
export function ratio(ours: number, reference: number): number {
  if (!Number.isFinite(ours) || !Number.isFinite(reference) || reference === 0) return Number.NaN;
  return ours / reference;
}

/**
 * Counts per consecutive window of `windowMs` between `startMs` and the last event (for
 * "pods bound per second" samples, as scheduler_perf reports its throughput).
 */
export function perWindowCounts(eventTimesMs: readonly number[], startMs: number, windowMs: number): number[] {
  if (eventTimesMs.length === 0) return [];
  const last = Math.max(...eventTimesMs);
  const windows = Math.max(1, Math.ceil((last - startMs) / windowMs));
  const counts = new Array<number>(windows).fill(0);
  for (const t of eventTimesMs) counts[Math.min(windows - 1, Math.max(0, Math.floor((t - startMs) / windowMs)))]++;
  return counts;
}
