import { describe, expect, it } from 'vitest';
import { buildTimeline, formatTimeline, formatOffset, actorName } from '../../src/trace/timeline.js';
import { formatTraceTree } from '../../src/trace/print.js';
import { traceKind } from '../../src/trace/query.js';
import type { PodTrace, TraceRecord } from '../../src/trace/types.js';
import type { Pod } from '../../src/api/types.js';
import { applyEvent, emptyState, nodeBoxes, podTimelineOf, serviceViews } from '../../src/dashboard/state.js';

const pod: Pod = { metadata: { name: 'myapp-1', namespace: 'default', uid: 'u1', creationTimestamp: '2026-01-01T10:00:00Z' }, spec: { nodeName: 'node-1', containers: [{ name: 'web' }] } };
const rec = (ms: number, step: TraceRecord['step'], component: string, action: string, message: string, extra: Partial<TraceRecord> = {}): TraceRecord =>
  ({ time: new Date(Date.UTC(2026, 0, 1, 10, 0, 0, 0) + 500 + ms).toISOString(), step, component, action, message, ...extra });
const traces: PodTrace[] = [
  { metadata: { name: 'k' }, pod: { namespace: 'default', name: 'myapp-1', uid: 'u1' }, records: [
    rec(9, 5, 'kubelet', 'Seen', 'saw the pod', { node: 'node-1' }),
    rec(420, 5, 'runtime', 'ContainerStarted', 'container web started', { node: 'node-1' }),
    rec(421, 6, 'kubelet', 'Probe', 'readiness probe http :80/ → success, Ready', { node: 'node-1' }),
  ] },
  { metadata: { name: 'a' }, pod: { namespace: 'default', name: 'myapp-1', uid: 'u1' }, records: [
    rec(0, 1, 'kube-apiserver', 'Created', 'pod stored (owner ReplicaSet myapp)'),
    rec(6, 4, 'kube-apiserver', 'Bound', 'bound to node-1', { node: 'node-1' }),
    rec(423, 7, 'kube-apiserver', 'StatusWritten', 'status Running, Ready=True', { fields: { ready: 'True' } }),
  ] },
  { metadata: { name: 's' }, pod: { namespace: 'default', name: 'myapp-1', uid: 'u1' }, records: [
    rec(2, 2, 'default-scheduler', 'Seen', 'scheduler saw it'),
    rec(4, 4, 'default-scheduler', 'Scheduled', 'considered 2 nodes → node-1', { node: 'node-1' }),
  ] },
  { metadata: { name: 'c' }, pod: { namespace: 'default', name: 'myapp-1', uid: 'u1' }, records: [rec(-3, 3, 'replicaset-controller', 'ReplicaCreated', 'ReplicaSet myapp wants 2')] },
  { metadata: { name: 'other' }, pod: { namespace: 'default', name: 'x', uid: 'u2' }, records: [rec(1, 1, 'kube-apiserver', 'Created', 'not this pod')] },
];

describe('buildTimeline', () => {
  const t = buildTimeline(pod, traces);
  it('merges the components\' records by time, relative to the API server storing the pod', () => {
    expect(t.entries.map((e) => [e.offsetMs, e.step, e.action])).toEqual([
      [-3, 3, 'ReplicaCreated'], [0, 1, 'Created'], [2, 2, 'Seen'], [4, 4, 'Scheduled'], [6, 4, 'Bound'], [9, 5, 'Seen'],
      [420, 5, 'ContainerStarted'], [421, 6, 'Probe'], [423, 7, 'StatusWritten'],
    ]);
    expect(t.steps.slice().sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(t.readyAfterMs).toBe(423);
  });
  it('falls back to creationTimestamp without an API server record', () => {
    expect(buildTimeline(pod, [traces[0]]).entries[0].offsetMs).toBe(509);
  });
});

describe('printing', () => {
  it.each([
    [0, '0 ms'], [-3, '-3 ms'], [420.4, '420 ms'], [12_345, '12.35 s'],
  ])('formats %d ms as %s', (ms, want) => expect(formatOffset(ms)).toBe(want));
  it.each([
    [{ component: 'kube-apiserver' }, 'API server'], [{ component: 'kubelet', node: 'node-2' }, 'kubelet/node-2'],
    [{ component: 'replicaset-controller' }, 'replicaset controller'], [{ component: 'default-scheduler' }, 'scheduler'],
  ])('names %j as %s', (r, want) => expect(actorName(r)).toBe(want));
  it('prints one aligned line per record with its seed step, then a summary', () => {
    const out = formatTimeline(buildTimeline(pod, traces));
    expect(out.split('\n').slice(0, 3)).toEqual([
      'pod default/myapp-1 on node-1',
      '   -3 ms  [3] replicaset controller  ReplicaSet myapp wants 2',
      '    0 ms  [1] API server             pod stored (owner ReplicaSet myapp)',
    ]);
    expect(out).toContain('  423 ms  [7] API server             status Running, Ready=True\n');
    expect(out).toContain('seed steps seen: 1 2 3 4 5 6 7; Ready 423 ms after creation');
  });
  it('says which steps were not seen', () => {
    expect(formatTimeline(buildTimeline(pod, [traces[1]]))).toContain('not seen: 2 (watchers see it), 3 (controller makes replicas), 5 (kubelet + runtime start it), 6 (health checks)');
  });
  it('prints a Deployment as a tree', () => {
    const out = formatTraceTree({ kind: 'deployment', name: 'myapp', namespace: 'default', replicaSets: [{ name: 'myapp-7c5d9', uid: 'r', replicas: 1, readyReplicas: 1, revision: '1', pods: [buildTimeline(pod, traces)] }] });
    expect(out.split('\n').slice(0, 3)).toEqual(['Deployment default/myapp', '  └─ ReplicaSet myapp-7c5d9 (revision 1): 1/1 ready', '     pod default/myapp-1 on node-1']);
  });
  it.each([['po', 'pod'], ['deploy', 'deployment'], ['deployments.apps', 'deployment'], ['rs', 'replicaset'], ['svc', undefined]])('reads type %s as %s', (w, k) => expect(traceKind(w)).toBe(k));
});

describe('dashboard state', () => {
  it('puts pods in their node\'s box, unbound ones apart, and follows deletes', () => {
    const s = emptyState();
    applyEvent(s, 'nodes', { type: 'ADDED', object: { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } });
    applyEvent(s, 'pods', { type: 'ADDED', object: { ...pod, status: { phase: 'Running', podIP: '10.244.1.7' } } });
    applyEvent(s, 'pods', { type: 'ADDED', object: { metadata: { name: 'waiting', namespace: 'default' }, spec: { containers: [] } } });
    expect(nodeBoxes(s).map((b) => [b.name, b.pods.map((p) => `${p.name}:${p.phase}:${p.ip}`)])).toEqual([['node-1', ['myapp-1:Running:10.244.1.7']], ['(unscheduled)', ['waiting:Pending:']]]);
    applyEvent(s, 'pods', { type: 'DELETED', object: { metadata: { name: 'waiting', namespace: 'default' } } });
    expect(nodeBoxes(s).map((b) => b.name)).toEqual(['node-1']);
    for (const t of traces) applyEvent(s, 'traces', { type: 'ADDED', object: t });
    expect(podTimelineOf(s, pod).entries).toHaveLength(9);
  });
  it('lists a Service with its ready and not-ready endpoints', () => {
    const s = emptyState();
    applyEvent(s, 'services', { type: 'ADDED', object: { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } } });
    applyEvent(s, 'endpoints', { type: 'ADDED', object: { metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.7' }], notReadyAddresses: [{ ip: '10.244.2.3' }], ports: [{ port: 80 }] }] } });
    expect(serviceViews(s)[0].endpoints).toEqual(['10.244.1.7:80', '10.244.2.3:80 (not ready)']);
  });
});
