/**
 * A rate-limited work queue of keys, as in client-go: a key is processed by at most one worker
 * at a time; a key added while it is being processed is processed again afterwards (newest
 * state wins, since workers re-read the cache); failures are requeued with exponential back-off.
 */

/** The timer functions a queue uses for delayed adds; tests pass fake ones to drive time. */
export interface QueueTimers {
  /** Milliseconds on the timers' own clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's longest timer; a longer delay would fire after 1 ms (with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The process's real timers (unref'd, so a pending delayed add never keeps a process alive).
 * Delays longer than Node's 24.8-day timer limit (a CronJob's yearly schedule) are chained.
 */
export const realTimers: QueueTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle: { timer?: NodeJS.Timeout } = {};
    const arm = (left: number): void => {
      handle.timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
      handle.timer.unref?.();
    };
    arm(ms);
    return handle;
  },
  clearTimeout: (h) => clearTimeout((h as { timer?: NodeJS.Timeout }).timer),
};

export interface WorkQueueOptions {
  /** First back-off of a failing key, doubled per consecutive failure (default 50 ms). */
  baseDelayMs?: number;
  /** Longest back-off (default 30 s). */
  maxDelayMs?: number;
  /** Timers for delayed adds (default {@link realTimers}). */
  timers?: QueueTimers;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** Pending delayed adds: one per key, the soonest wins. */
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly timers: QueueTimers;
  private waiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions = {}) {
    this.timers = opts.timers ?? realTimers;
  }

  /** Adds the key now (a no-op if it is already waiting; re-queued after processing if in flight). */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /**
   * Adds the key after `ms` (client-go's `AddAfter`). If a delayed add of the same key is already
   * pending, the sooner of the two is kept; `ms <= 0` adds at once.
   */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.timers.now() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      this.timers.clearTimeout(pending.handle);
    }
    const handle = this.timers.setTimeout(() => {
      if (this.delayed.get(key)?.handle !== handle) return;
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Requeues a failed key with exponential back-off (base × 2^(failures-1), capped). */
  addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const base = this.opts.baseDelayMs ?? 50;
    this.addAfter(key, Math.min(this.opts.maxDelayMs ?? 30_000, base * 2 ** Math.min(n - 1, 30)));
  }

  /** How many times in a row the key has failed (0 after {@link forget}). */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears the back-off history of a key after a successful sync. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Waits for the next key (undefined when shut down). Call `done(key)` after processing. */
  async get(): Promise<string | undefined> {
    while (!this.queue.length) {
      if (this.shuttingDown) return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const key = this.queue.shift() as string;
    this.queued.delete(key);
    this.processing.add(key);
    return key;
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirtyWhileProcessing.delete(key)) this.add(key);
  }

  /** Keys waiting to be processed now (not counting delayed or in-flight ones). */
  get length(): number {
    return this.queue.length;
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.timers.clearTimeout(d.handle);
    this.delayed.clear();
    const w = this.waiters;
    this.waiters = [];
    w.forEach((r) => r());
  }

  /**
   * Runs `workers` loops calling `sync(key)`: success forgets the key's back-off, a thrown error
   * requeues it rate-limited (and is reported to `onError`). Resolves when the queue shuts down.
   */
  async run(workers: number, sync: (key: string) => Promise<void>, onError: (key: string, e: unknown) => void): Promise<void> {
    const loop = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await sync(key);
          this.forget(key);
        } catch (e) {
          onError(key, e);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }
}
