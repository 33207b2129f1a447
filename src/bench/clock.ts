/**
 * Time for measurements: wall-clock epoch milliseconds with sub-millisecond resolution, so that
 * the benchmark's own marks line up with the timestamps Docker records (also epoch based).
 */

/** Epoch time in ms, monotonic within this process (performance clock anchored at its origin). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Resolves after `ms` (used only to let a system settle or to pace a sampler, never to wait for a state). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Docker's RFC 3339 time with nanoseconds (`2024-05-01T10:00:00.123456789Z`) as epoch ms with
 * the sub-millisecond part kept; NaN for Docker's "never" (`0001-01-01…`) or garbage.
 */
export function parseEngineTime(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s.trim());
  if (!m || m[1].startsWith('0001-')) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}
