/**
 * A rate-limited work queue of keys, as in client-go: a key is processed by at most one worker
 * at a time; a key added while it is being processed is processed again afterwards (newest
 * state wins, since workers re-read the cache); failures are requeued with exponential back-off.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly opts: { baseDelayMs?: number; maxDelayMs?: number } = {}) {}

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

  /** Adds the key after `ms` (replacing an earlier pending delayed add of the same key only if sooner). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref?.();
    this.timers.set(key, t);
  }

  /** Requeues a failed key with exponential back-off. */
  addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const base = this.opts.baseDelayMs ?? 50;
    this.addAfter(key, Math.min(this.opts.maxDelayMs ?? 30_000, base * 2 ** (n - 1)));
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

  get length(): number {
    return this.queue.length;
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
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
