import { describe, expect, it } from 'vitest';
import { NO_TRACE, TraceRecorder, toObject } from '../../src/trace/recorder.js';
import type { PodTrace } from '../../src/trace/types.js';
import { validatePodTrace } from '../../src/trace/validation.js';
import { tracesToPrune } from '../../src/trace/components.js';
import { statusChange } from '../../src/trace/apiserver.js';
import type { Pod } from '../../src/api/types.js';

const pod = (name: string, uid = `uid-${name}`): Pod => ({ metadata: { name, namespace: 'default', uid } });
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, 0, ms));

describe('TraceRecorder', () => {
  it('returns at once and writes nothing until the flush', async () => {
    const written: PodTrace[] = [];
    const r = new TraceRecorder(async (t) => { written.push(t); }, 'kubelet', { host: 'node-1', flushMs: 60_000, clock: () => at(5) });
    r.record(pod('a'), { step: 5, action: 'Seen', message: 'saw it' });
    expect(written).toEqual([]);
    await r.flush();
    expect(written).toHaveLength(1);
    expect(written[0].pod).toEqual({ namespace: 'default', name: 'a', uid: 'uid-a' });
    expect(written[0].records).toEqual([{ time: '2026-01-01T10:00:00.005Z', step: 5, component: 'kubelet', node: 'node-1', action: 'Seen', message: 'saw it' }]);
    expect(written[0].metadata?.generateName).toBe('a.kubelet-');
    expect(validatePodTrace({ ...written[0], metadata: { ...written[0].metadata, name: 'a.kubelet-x' } })).toEqual([]);
  });

  it('groups records by pod, one object per pod per flush', async () => {
    const written: PodTrace[] = [];
    const r = new TraceRecorder(async (t) => { written.push(t); }, 'default-scheduler', { flushMs: 60_000 });
    r.record(pod('a'), { step: 2, action: 'Seen', message: '1' });
    r.record(pod('b'), { step: 2, action: 'Seen', message: '2' });
    r.record(pod('a'), { step: 4, action: 'Scheduled', message: '3', node: 'node-2' });
    await r.flush();
    expect(written.map((t) => [t.pod.name, t.records.map((x) => x.message)])).toEqual([['a', ['1', '3']], ['b', ['2']]]);
  });

  it('flushes by itself after flushMs', async () => {
    let done!: () => void;
    const wrote = new Promise<void>((r) => { done = r; });
    const r = new TraceRecorder(async () => { done(); }, 'x', { flushMs: 5 });
    r.record(pod('a'), { step: 1, action: 'Created', message: '' });
    await wrote;
  });

  it('drops (and counts) records beyond maxPending instead of growing', async () => {
    const written: PodTrace[] = [];
    const r = new TraceRecorder(async (t) => { written.push(t); }, 'x', { flushMs: 60_000, maxPending: 2 });
    for (let i = 0; i < 5; i++) r.record(pod('a'), { step: 1, action: 'A', message: String(i) });
    await r.flush();
    expect(written[0].records.map((x) => x.message)).toEqual(['0', '1']);
    expect(r.dropped).toBe(3);
  });

  it('logs a failed write and goes on with the next one', async () => {
    const logs: string[] = [];
    let calls = 0;
    const r = new TraceRecorder(async () => { if (calls++ === 0) throw new Error('boom'); }, 'x', { flushMs: 60_000, log: (m) => logs.push(m) });
    r.record(pod('a'), { step: 1, action: 'A', message: '' });
    r.record(pod('b'), { step: 1, action: 'A', message: '' });
    await r.flush();
    expect(calls).toBe(2);
    expect(logs).toEqual(['trace: default/a: 1 records not written: boom']);
  });

  it('adds enrich() fields at flush time, and keeps the record when enrich fails', async () => {
    const written: PodTrace[] = [];
    const r = new TraceRecorder(async (t) => { written.push(t); }, 'kubelet', { flushMs: 60_000 });
    r.record(pod('a'), { step: 5, action: 'ContainerStarted', message: '', fields: { container: 'web' }, enrich: async () => ({ runtimeStartedAt: 'T' }) });
    r.record(pod('a'), { step: 5, action: 'ContainerStarted', message: '', enrich: async () => { throw new Error('gone'); } });
    await r.flush();
    expect(written[0].records.map((x) => x.fields)).toEqual([{ container: 'web', runtimeStartedAt: 'T' }, undefined]);
  });

  it('ignores objects without a uid, and NO_TRACE does nothing', () => {
    const r = new TraceRecorder(async () => undefined, 'x');
    r.record({ metadata: { name: 'a' } }, { step: 1, action: 'A', message: '' });
    expect(r.dropped).toBe(0);
    expect(() => NO_TRACE.record(pod('a'), { step: 1, action: 'A', message: '' })).not.toThrow();
  });
});

describe('PodTrace validation', () => {
  const good = (): PodTrace => ({ ...toObject({ namespace: 'default', name: 'a', uid: 'u' }, 'kubelet', [{ time: '2026-01-01T10:00:00.000Z', step: 5, component: 'kubelet', action: 'Seen', message: 'm' }]), metadata: { name: 'a.kubelet-x', namespace: 'default' } });
  it.each([
    ['a step outside 1-7', (t: PodTrace) => { t.records[0].step = 9 as 1; }, 'records[0].step'],
    ['a time that is not RFC 3339', (t: PodTrace) => { t.records[0].time = 'yesterday'; }, 'records[0].time'],
    ['no pod uid', (t: PodTrace) => { t.pod.uid = ''; }, 'pod.uid'],
    ['more than 256 records', (t: PodTrace) => { t.records = Array.from({ length: 257 }, () => ({ ...t.records[0] })); }, 'records'],
  ])('refuses %s with its field path', (_n, change, field) => {
    const t = good();
    change(t);
    expect(validatePodTrace(t).map((e) => e.field)).toContain(field);
  });
  it('refuses changing records on update', () => {
    const old = good();
    const t = good();
    t.records[0].message = 'other';
    expect(validatePodTrace(t, old).map((e) => e.field)).toContain('records');
  });
});

describe('tracesToPrune', () => {
  const trace = (name: string, uid: string, ageMs: number): PodTrace => ({
    metadata: { name, creationTimestamp: new Date(1_000_000_000 - ageMs).toISOString() }, pod: { namespace: 'default', name, uid }, records: [],
  });
  const limits = { ttlMs: 3_600_000, orphanTtlMs: 600_000, maxObjects: 3 };
  it('deletes traces past the TTL, orphans past their grace, and the oldest beyond the cap', () => {
    const ts = [trace('old', 'live', 4_000_000), trace('orphan', 'gone', 700_000), trace('young-orphan', 'gone', 1000), trace('a', 'live', 10), trace('b', 'live', 20), trace('c', 'live', 30)];
    expect(tracesToPrune(ts, new Set(['live']), 1_000_000_000, limits).map((t) => t.metadata?.name)).toEqual(['old', 'orphan', 'young-orphan']);
  });
});

describe('statusChange', () => {
  it('summarizes phase, readiness and IP, and says nothing for an unchanged status', () => {
    const before: Pod = { status: { phase: 'Pending' } };
    const after: Pod = { status: { phase: 'Running', podIP: '10.244.1.7', conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(statusChange(before, after)?.message).toBe('status Running, Ready=True, IP 10.244.1.7');
    expect(statusChange(after, after)).toBeUndefined();
  });
});
