/**
 * Restart back-off, as the kubelet computes it: the first restart is immediate, then the delay
 * doubles from `baseMs` up to `capMs`; a container that ran for at least `resetMs` before it
 * ended starts over with no delay. Pure: derived from the restart count and the container's
 * start/finish times, so a restarted kubelet computes the same delay.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  resetMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10_000, capMs: 300_000, resetMs: 600_000 };

/** Delay before restart number `restartCount + 1` may start (0 = now). */
export function restartDelayMs(policy: BackoffPolicy, restartCount: number, ranMs: number): number {
  if (ranMs >= policy.resetMs) return 0;
  if (restartCount <= 0) return 0;
  return Math.min(policy.capMs, policy.baseMs * 2 ** (restartCount - 1));
}

/** Back-off for image pulls: 10 s doubling to 300 s, per image, kept in memory. */
export class PullBackoff {
  private readonly entries = new Map<string, { failures: number; until: number }>();

  constructor(private readonly policy: BackoffPolicy, private readonly now: () => number) {}

  /** Milliseconds left before the next pull of `key` may be tried (0 = may pull now). */
  remaining(key: string): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.until - this.now()) : 0;
  }

  failed(key: string): number {
    const e = this.entries.get(key) ?? { failures: 0, until: 0 };
    e.failures++;
    const delay = Math.min(this.policy.capMs, this.policy.baseMs * 2 ** (e.failures - 1));
    e.until = this.now() + delay;
    this.entries.set(key, e);
    return delay;
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }
}
