/**
 * Time for measurements: wall-clock epoch milliseconds with sub-millisecond resolution, so that
 * the benchmark's own marks line up with the times Docker records (also epoch based).
 */

/** Epoch time in ms, monotonic within this process (performance clock anchored at its origin). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * Resolves after `ms`: to let a system settle, to pace a sampler, or between the tries of a poll
 * where no event exists (an HTTP server starting to listen, a file another process writes).
 */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
