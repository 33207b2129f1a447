/** Restart back-off: durations from the command line, configurable base and cap, and the delays they give. */
import { describe, expect, it } from 'vitest';
import { backoffPolicy, DEFAULT_BACKOFF, parseDuration, restartDelayMs } from '../../src/kubelet/backoff.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000], ['500ms', 500], ['5m', 300_000], ['1m30s', 90_000], ['1.5s', 1500], ['2h', 7_200_000], ['3', 3000], [' 1s ', 1000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '10 s', '10x', '-1s', '1s2'])('refuses %j with a sentence', (text) => {
    expect(() => parseDuration(text)).toThrow(/^invalid duration ".*": expected e\.g\. 10s, 500ms, 5m or 1m30s$/);
  });
});

describe('backoffPolicy', () => {
  it('resets after twice the cap, which is the default 10 minutes for a 5 minute cap', () => {
    expect(backoffPolicy(10_000, 300_000)).toEqual(DEFAULT_BACKOFF);
    expect(backoffPolicy(1000, 4000)).toEqual({ baseMs: 1000, capMs: 4000, resetMs: 8000 });
  });

  it('refuses a cap below the base and a base that is not positive', () => {
    expect(() => backoffPolicy(5000, 1000)).toThrow('back-off cap (1000 ms) must not be below the base (5000 ms)');
    expect(() => backoffPolicy(0, 1000)).toThrow('back-off base must be positive, got 0 ms');
  });

  it('gives delays that double from the base and stop at the cap', () => {
    const policy = backoffPolicy(1000, 4000);
    expect([0, 1, 2, 3, 4, 5].map((n) => restartDelayMs(policy, n, 100))).toEqual([0, 1000, 2000, 4000, 4000, 4000]);
    // A container that ran for twice the cap starts over.
    expect(restartDelayMs(policy, 5, 8000)).toBe(0);
    expect(restartDelayMs(policy, 5, 7999)).toBe(4000);
  });
});
