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

/**
 * A back-off policy from a base and a cap (the kubelet's `--backoff-base`/`--backoff-cap`). As in
 * Kubernetes' back-off, a container that ran for twice the cap starts over (10 min for 5 min).
 */
export function backoffPolicy(baseMs: number, capMs: number): BackoffPolicy {
  if (!(baseMs > 0)) throw new Error(`back-off base must be positive, got ${baseMs} ms`);
  if (!(capMs >= baseMs)) throw new Error(`back-off cap (${capMs} ms) must not be below the base (${baseMs} ms)`);
  return { baseMs, capMs, resetMs: 2 * capMs };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration as Go writes them (`10s`, `1m30s`, `500ms`, `1.5s`); a bare number is
 * seconds. Returns milliseconds; throws on anything else.
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(s) ? s.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) : null;
  if (!parts) throw new Error(`invalid duration "${text}": expected e.g. 10s, 500ms, 5m or 1m30s`);
  return parts.reduce((ms, p) => {
    const [, n, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(p) ?? [];
    return ms + Number(n) * UNITS[unit];
  }, 0);
}

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
