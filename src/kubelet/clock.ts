/**
 * Time as the kubelet sees it. Probes, restart back-off, hook timeouts and retries all go
 * through one `Clock`, passed in, so unit tests drive them with a fake one (principle 8).
 */
export interface Clock {
  now(): Date;
  /** Calls `fn` once after `ms` milliseconds; returns a function that cancels the call. */
  after(ms: number, fn: () => void): () => void;
}

/** The wall clock and Node's timers. */
export const realClock: Clock = {
  now: () => new Date(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`, or early (without error) when `signal` aborts. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.after(ms, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An AbortSignal that aborts after `ms` on `clock`; `clear` stops the timer. */
export function timeoutSignal(clock: Clock, ms: number): { signal: AbortSignal; clear: () => void; timedOut: () => boolean } {
  const controller = new AbortController();
  let fired = false;
  const clear = clock.after(ms, () => {
    fired = true;
    controller.abort();
  });
  return { signal: controller.signal, clear, timedOut: () => fired };
}
