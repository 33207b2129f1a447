import { describe, expect, it } from 'vitest';
import { decideReplicas, resourceReplicas, scaleDownLimit, scaleUpLimit, stabilize, withDefaultBehavior, type PodSample } from '../../src/controllers/hpaplan.js';

const pods = (...usage: Array<number | undefined>): PodSample[] => usage.map((u, i) => ({ name: `p${i}`, request: 100, usage: u, ready: true }));

describe('HPA replica calculation (CPU utilisation, target 50%)', () => {
  it.each([
    ['a busy single pod asks for more', 1, pods(200), 4],
    ['within the 10% tolerance nothing changes', 2, pods(54, 52), 2],
    ['an idle pair scales down to one', 2, pods(10, 10), 1],
    ['just outside the tolerance it moves', 2, pods(60, 60), 3],
    ['a pod without metrics counts as 0% on a scale-up', 2, pods(200, undefined), 4],
    ['a pod without metrics counts as its request on a scale-down, which can cancel it', 2, pods(20, undefined), 2],
  ])('%s', (_n, current, samples, want) => {
    expect(resourceReplicas(current, 50, samples)).toMatchObject({ ok: true, replicas: want });
  });
  it('does not scale up on unready pods\' numbers', () => {
    const samples: PodSample[] = [{ name: 'a', request: 100, usage: 100, ready: true }, { name: 'b', request: 100, usage: 900, ready: false }];
    expect(resourceReplicas(2, 50, samples)).toMatchObject({ ok: true, replicas: 2 });
  });
  it('reports the utilisation in percent of request', () => {
    expect(resourceReplicas(2, 50, pods(30, 70))).toMatchObject({ utilization: 50 });
  });
  it.each([
    ['no pods', [], 'no pods returned by selector'],
    ['a pod without a request', [{ name: 'a', request: 0, usage: 10, ready: true }], 'missing request for cpu'],
    ['no metrics at all', pods(undefined), 'did not receive metrics'],
  ])('cannot compute with %s', (_n, samples, reason) => {
    const r = resourceReplicas(1, 50, samples);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(reason);
  });
});

describe('HPA behaviour', () => {
  const NOW = 1_000_000;
  const b = withDefaultBehavior(undefined);
  it('defaults as autoscaling/v2 does', () => {
    expect(b.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(b.scaleUp.policies).toEqual([{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }]);
  });
  it.each([
    ['a scale-down waits for the highest recommendation of the last 300 s', 4, 1, [{ atMs: NOW - 100_000, replicas: 3 }], 3],
    ['a recommendation older than the window is forgotten', 4, 1, [{ atMs: NOW - 301_000, replicas: 3 }], 1],
    ['a scale-up is not stabilised by default', 1, 5, [{ atMs: NOW - 1000, replicas: 1 }], 5],
  ])('%s', (_n, current, desired, history, want) => {
    expect(stabilize(current, desired, history, b, NOW)).toBe(want);
  });
  it.each([
    ['doubles or adds 4, whichever is more (from 1: 5)', 1, [], 5],
    ['from 10: 20', 10, [], 20],
    ['counts what was added in the period', 8, [{ atMs: NOW - 5000, change: 4 }], 8],
  ])('scale-up limit %s', (_n, current, events, want) => {
    expect(scaleUpLimit(current, events, b.scaleUp, NOW)).toBe(want);
  });
  it('scale-down limit: 100% per 15 s allows going to 0; a Pods policy of 1 allows one less', () => {
    expect(scaleDownLimit(4, [], b.scaleDown, NOW)).toBe(0);
    expect(scaleDownLimit(4, [], { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] }, NOW)).toBe(3);
  });
  it.each([
    ['bounded by maxReplicas', { current: 1, recommended: 10, maxReplicas: 3 }, { replicas: 3, limitedBy: 'TooManyReplicas' }],
    ['bounded by the scale-up rate', { current: 1, recommended: 10, maxReplicas: 20 }, { replicas: 5, limitedBy: 'ScaleUpLimit' }],
    ['bounded by minReplicas', { current: 3, recommended: 0, minReplicas: 2 }, { replicas: 2, limitedBy: 'TooFewReplicas' }],
    ['free to move within bounds', { current: 2, recommended: 3, maxReplicas: 5 }, { replicas: 3 }],
  ])('decision %s', (_n, o, want) => {
    const behavior = withDefaultBehavior({ scaleDown: { stabilizationWindowSeconds: 0 } });
    expect(decideReplicas({ minReplicas: 1, maxReplicas: 10, behavior, history: [], events: [], nowMs: NOW, ...o })).toEqual(want);
  });
});
