/**
 * The benchmark's statistics, table formatting and CPU-profile reading (pure functions).
 */
import { describe, expect, it } from 'vitest';
import { cidrsOverlap, subnet24 } from '../../src/bench/cluster.js';
import { sourceOf, summarizeProfile, type CpuProfile } from '../../src/bench/profile.js';
import { formatRatio, formatValue, newPart, renderReport, renderTable } from '../../src/bench/report.js';
import { perWindowCounts, quantile, ratio, single, summarize } from '../../src/bench/stats.js';

describe('quantile (nearest rank)', () => {
  it.each([
    { name: 'the median of 1..10 is 5', samples: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], q: 0.5, want: 5 },
    { name: 'p99 of fewer than 100 samples is the largest', samples: [3, 1, 2], q: 0.99, want: 3 },
    { name: 'p99 of 1..200 is 198', samples: Array.from({ length: 200 }, (_, i) => i + 1), q: 0.99, want: 198 },
    { name: 'one sample is every quantile', samples: [7], q: 0.01, want: 7 },
  ])('$name', ({ samples, q, want }) => {
    expect(quantile(samples, q)).toBe(want);
  });

  it('is NaN without samples, and summarize says n 0', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(summarize([])).toMatchObject({ n: 0 });
    expect(summarize([]).p50).toBeNaN();
  });
});

describe('summarize', () => {
  it('gives min, p50, p99, max and mean of unsorted samples', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, min: 1, p50: 2, p99: 4, max: 4, mean: 2.5 });
  });

  it('a single value is its own distribution', () => {
    expect(single(270)).toEqual({ n: 1, min: 270, p50: 270, p99: 270, max: 270, mean: 270 });
  });
});

describe('ratio and per-window counts', () => {
  it('ratio is ours over the reference, NaN when the reference is 0 or missing', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });

  it('counts events per 1-second window from the start', () => {
    expect(perWindowCounts([100, 900, 1000, 2500, 2999], 0, 1000)).toEqual([2, 1, 2]);
    expect(perWindowCounts([], 0, 1000)).toEqual([]);
  });
});

describe('formatting', () => {
  it.each([
    { v: 0.123, unit: 'ms' as const, want: '0.12 ms' },
    { v: 5.55, unit: 'ms' as const, want: '5.5 ms' },
    { v: 123.4, unit: 'ms' as const, want: '123 ms' },
    { v: 1234, unit: 'ms' as const, want: '1.23 s' },
    { v: 33_000, unit: 'ms' as const, want: '33.0 s' },
    { v: 270, unit: 'pods/s' as const, want: '270 pods/s' },
    { v: 85.4, unit: 'MiB' as const, want: '85 MiB' },
    { v: 1.234, unit: 'cpu-s' as const, want: '1.23 s CPU' },
    { v: Number.NaN, unit: 'ms' as const, want: '—' },
  ])('$v $unit reads "$want"', ({ v, unit, want }) => {
    expect(formatValue(v, unit)).toBe(want);
  });

  it('ratios keep two significant digits', () => {
    expect(formatRatio(1.8333)).toBe('1.8×');
    expect(formatRatio(0.0312)).toBe('0.031×');
    expect(formatRatio(Number.NaN)).toBe('—');
  });

  it('the table has one row per reference, with the ratio and whether the reference was quoted', () => {
    const part = newPart('startup', 'test');
    part.figures.push({
      name: 'up', unit: 'ms', summary: summarize([1000, 2000, 3000]), spread: 'minmax',
      references: [{ label: 'kind', value: 33_000, measured: false }, { label: 'floor', value: 1000, measured: true }],
    });
    const lines = renderTable([part]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/startup\s+up\s+3\s+2\.00 s\s+1\.00 s – 3\.00 s\s+kind 33\.0 s \(quoted\)\s+0\.061×/);
    expect(lines[2]).toMatch(/floor 1\.00 s\s+2×$/);
  });

  it('a skipped part without figures is marked in the table and gives its reason under it', () => {
    const part = newPart('scaleout', 'test');
    part.skipped = 'no Deployments yet';
    expect(renderTable([part])).toMatch(/^scaleout\s+skipped \(see below\)$/m);
    const machine = {
      date: '2026-01-01T00:00:00Z', cores: 2, cpuModel: 'cpu', memoryGiB: 24, os: 'Linux', loadAverage: [0, 0, 0],
      node: 'v20', docker: 'docker engine 20.10', minikubeLite: '0.1.0',
    };
    expect(renderReport(machine, [part], false)).toContain('  skipped: no Deployments yet');
  });
});

describe('subnets', () => {
  it.each([
    { a: '10.236.0.0/16', b: '10.236.4.0/24', want: true },
    { a: '10.236.0.0/16', b: '10.237.0.0/16', want: false },
    { a: '172.17.0.0/16', b: '10.236.0.0/16', want: false },
  ])('$a and $b overlap: $want', ({ a, b, want }) => {
    expect(cidrsOverlap(a, b)).toBe(want);
  });

  it('numbers /24s inside a /16 with their gateway', () => {
    expect(subnet24('10.237.0.0/16', 3)).toEqual({ subnet: '10.237.3.0/24', gateway: '10.237.3.1' });
  });
});

describe('CPU profiles', () => {
  it('attributes self time by function and source, and inclusive time to own code on the stack', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
        { id: 2, callFrame: frame('syncPod', 'file:///repo/dist/kubelet/kubelet.js'), children: [3] },
        { id: 3, callFrame: frame('parse', 'file:///repo/node_modules/dockerode/lib/x.js') },
        { id: 4, callFrame: frame('(idle)', '') },
      ],
      startTime: 0, endTime: 10_000,
      // Sample i lasts timeDeltas[i + 1] µs.
      samples: [3, 3, 2, 4, 4],
      timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
    };
    const s = summarizeProfile(profile);
    expect(s.busyMs).toBe(3);
    expect(s.byFile).toEqual([{ file: 'npm:dockerode', ms: 2 }, { file: 'dist/kubelet/kubelet.js', ms: 1 }]);
    expect(s.topOwnInclusive).toEqual([{ fn: 'syncPod dist/kubelet/kubelet.js:1', ms: 3 }]);
  });

  it.each([
    { url: 'node:internal/streams/readable', fn: 'read', want: 'node:streams' },
    { url: 'file:///x/node_modules/@scope/pkg/a.js', fn: 'f', want: 'npm:@scope/pkg' },
    { url: '', fn: '(garbage collector)', want: '(garbage collector)' },
  ])('$url is reported as $want', ({ url, fn, want }) => {
    expect(sourceOf(url, fn)).toBe(want);
  });
});
