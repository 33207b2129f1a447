import { describe, expect, it } from 'vitest';
import { WorkQueue, type QueueTimers } from '../../src/client/workqueue.js';

/** Timers driven by the test: `advance(ms)` fires what falls due, in due order. */
class FakeTimers implements QueueTimers {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  get count(): number {
    return this.pending.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.pending.entries()].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

describe('WorkQueue', () => {
  it('keeps the sooner of two delayed adds of one key (addAfter 5 s, then a rate-limited 50 ms retry)', () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ baseDelayMs: 50, timers });
    q.addAfter('k', 5000);
    q.addRateLimited('k');
    expect(timers.count).toBe(1);
    timers.advance(50);
    expect(q.length).toBe(1);
    timers.advance(10_000);
    expect(q.length).toBe(1);
  });

  it('keeps an earlier pending delayed add when a later one is asked for', () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ timers });
    q.addAfter('k', 100);
    q.addAfter('k', 5000);
    timers.advance(100);
    expect(q.length).toBe(1);
    expect(timers.count).toBe(0);
  });

  it('adds at once for a delay of zero or less', () => {
    const q = new WorkQueue({ timers: new FakeTimers() });
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    expect(q.length).toBe(2);
  });

  it('backs off exponentially per failure up to the cap, and forget resets it', async () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 35, timers });
    const dueAfter = async (): Promise<number> => {
      const start = timers.now();
      q.addRateLimited('k');
      for (let i = 0; i < 1000 && q.length === 0; i++) timers.advance(1);
      q.done((await q.get()) as string);
      return timers.now() - start;
    };
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) waits.push(await dueAfter());
    expect(waits).toEqual([10, 20, 35, 35]);
    expect(q.numRequeues('k')).toBe(4);
    q.forget('k');
    expect(q.numRequeues('k')).toBe(0);
  });

  it('never hands one key to two workers; a key added while in flight is processed again after', async () => {
    const q = new WorkQueue({ timers: new FakeTimers() });
    q.add('k');
    const k = await q.get();
    q.add('k');
    expect(q.length).toBe(0);
    q.done(k as string);
    expect(q.length).toBe(1);
  });

  it('drops delayed adds and wakes waiting workers on shutdown', async () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ timers });
    q.addAfter('k', 100);
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
    expect(timers.count).toBe(0);
    q.add('x');
    expect(q.length).toBe(0);
  });

  it('requeues a failing sync with back-off and forgets the history after a success', async () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ baseDelayMs: 10, timers });
    let calls = 0;
    const errors: string[] = [];
    const running = q.run(1, async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
    }, (key, e) => errors.push(`${key}: ${(e as Error).message}`));
    q.add('k');
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['k: boom']);
    expect(q.numRequeues('k')).toBe(1);
    timers.advance(10);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(2);
    expect(q.numRequeues('k')).toBe(0);
    q.shutdown();
    await running;
  });

  it('with the real timers, a key added 30 days ahead (past Node\'s 24.8-day timer limit) is not added at once', async () => {
    const q = new WorkQueue();
    q.addAfter('yearly', 30 * 24 * 3600 * 1000);
    q.addAfter('soon', 20);
    await new Promise((r) => setTimeout(r, 60));
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('soon');
    q.shutdown();
  });
});
