/**
 * A counting semaphore: at most `limit` tasks hold a slot at once; the rest wait in order. Used
 * by the scheduler to bound bindings and events in flight without awaiting each one.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`);
  }

  /** Slots in use. */
  get inFlight(): number {
    return this.active;
  }

  /** Resolves once a slot is held; pair with exactly one `release()`. */
  acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives a slot back, handing it to the longest waiter if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) {
      next(); // the slot passes on: `active` stays the same
      return;
    }
    this.active--;
    if (this.active === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      w.forEach((r) => r());
    }
  }

  /** Runs `task` in a slot; the returned promise settles as the task does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Resolves once no slot is held and nobody waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
