import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../src/api/types.js';
import type { NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import { buildSnapshot, newNodeInfo, podRequests, reasonsOf, type FilterPlugin, type Snapshot } from '../../src/scheduler/framework.js';
import {
  defaultPlugins, leastAllocated, nodeAffinity, nodePorts, nodeResourcesFit, nodeUnschedulable, REASON, selectorSpread, taintToleration,
} from '../../src/scheduler/plugins.js';
import { fitErrorMessage, schedulePod } from '../../src/scheduler/schedule.js';
import { nodeSchedulingChanged, withScheduledFalse } from '../../src/scheduler/scheduler.js';
import { node, pod } from './scheduler.fixtures.js';

/** Runs one filter on a pod against a node carrying `existing` pods; '' means it fits. */
function run(plugin: FilterPlugin, p: Pod, n: Node, existing: Pod[] = []): string {
  return reasonsOf(plugin.filter(p, newNodeInfo(n, existing))).join(', ');
}

const affinity = (...terms: NodeSelectorTerm[]): Partial<Pod['spec']> => ({
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
});
const expr = (key: string, operator: string, values?: string[]): NodeSelectorRequirement => ({ key, operator, values });

describe('NodeAffinity filter', () => {
  const labelled = node('n1', { labels: { gpu: 'true', zone: 'a', cores: '8' } });
  const cases: { name: string; spec: Partial<Pod['spec']>; fits: boolean }[] = [
    { name: 'a pod without selector or affinity fits any node', spec: {}, fits: true },
    { name: 'a nodeSelector matching every label fits', spec: { nodeSelector: { gpu: 'true', zone: 'a' } }, fits: true },
    { name: 'a nodeSelector with one wrong value does not fit', spec: { nodeSelector: { gpu: 'true', zone: 'b' } }, fits: false },
    { name: 'a nodeSelector on a missing label does not fit', spec: { nodeSelector: { disk: 'ssd' } }, fits: false },
    { name: 'In with the node value fits', spec: affinity({ matchExpressions: [expr('zone', 'In', ['a', 'b'])] }), fits: true },
    { name: 'In without the node value does not fit', spec: affinity({ matchExpressions: [expr('zone', 'In', ['b'])] }), fits: false },
    { name: 'NotIn with the node value does not fit', spec: affinity({ matchExpressions: [expr('zone', 'NotIn', ['a'])] }), fits: false },
    { name: 'NotIn on a missing label fits', spec: affinity({ matchExpressions: [expr('disk', 'NotIn', ['hdd'])] }), fits: true },
    { name: 'Exists on a present label fits', spec: affinity({ matchExpressions: [expr('gpu', 'Exists')] }), fits: true },
    { name: 'Exists on a missing label does not fit', spec: affinity({ matchExpressions: [expr('disk', 'Exists')] }), fits: false },
    { name: 'DoesNotExist on a missing label fits', spec: affinity({ matchExpressions: [expr('disk', 'DoesNotExist')] }), fits: true },
    { name: 'DoesNotExist on a present label does not fit', spec: affinity({ matchExpressions: [expr('gpu', 'DoesNotExist')] }), fits: false },
    { name: 'Gt below the node value fits', spec: affinity({ matchExpressions: [expr('cores', 'Gt', ['4'])] }), fits: true },
    { name: 'Gt equal to the node value does not fit', spec: affinity({ matchExpressions: [expr('cores', 'Gt', ['8'])] }), fits: false },
    { name: 'Lt above the node value fits', spec: affinity({ matchExpressions: [expr('cores', 'Lt', ['16'])] }), fits: true },
    { name: 'Gt on a non-integer label does not fit', spec: affinity({ matchExpressions: [expr('zone', 'Gt', ['1'])] }), fits: false },
    { name: 'expressions in one term must all match', spec: affinity({ matchExpressions: [expr('gpu', 'Exists'), expr('zone', 'In', ['b'])] }), fits: false },
    {
      name: 'terms are ORed: one matching term is enough',
      spec: affinity({ matchExpressions: [expr('zone', 'In', ['b'])] }, { matchExpressions: [expr('gpu', 'In', ['true'])] }), fits: true,
    },
    { name: 'an empty term matches nothing', spec: affinity({}), fits: false },
    { name: 'matchFields on metadata.name fits the named node', spec: affinity({ matchFields: [expr('metadata.name', 'In', ['n1'])] }), fits: true },
    { name: 'matchFields on another name does not fit', spec: affinity({ matchFields: [expr('metadata.name', 'In', ['n2'])] }), fits: false },
    {
      name: 'nodeSelector and affinity must both match',
      spec: { nodeSelector: { gpu: 'false' }, ...affinity({ matchExpressions: [expr('gpu', 'Exists')] }) }, fits: false,
    },
  ];
  it.each(cases)('$name', ({ spec, fits }) => {
    expect(run(nodeAffinity, pod('p', { spec }), labelled)).toBe(fits ? '' : REASON.nodeAffinity);
  });
});

describe('NodeResourcesFit filter', () => {
  const cases: { name: string; pod: Pod; node: Node; existing?: Pod[]; want: string }[] = [
    { name: 'a pod within allocatable fits', pod: pod('p', { requests: [{ cpu: '500m', memory: '1Gi' }] }), node: node('n'), want: '' },
    { name: 'a pod asking exactly what is left fits', pod: pod('p', { requests: [{ cpu: '1', memory: '2Gi' }] }), node: node('n'), existing: [pod('e', { nodeName: 'n', requests: [{ cpu: '1', memory: '2Gi' }] })], want: '' },
    { name: 'cpu beyond what is left is Insufficient cpu', pod: pod('p', { requests: [{ cpu: '1500m' }] }), node: node('n'), existing: [pod('e', { nodeName: 'n', requests: [{ cpu: '1' }] })], want: 'Insufficient cpu' },
    { name: 'memory beyond allocatable is Insufficient memory', pod: pod('p', { requests: [{ memory: '5Gi' }] }), node: node('n'), want: 'Insufficient memory' },
    { name: 'both short reports both, cpu first', pod: pod('p', { requests: [{ cpu: '3', memory: '5Gi' }] }), node: node('n'), want: 'Insufficient cpu, Insufficient memory' },
    { name: 'containers requests are summed', pod: pod('p', { requests: [{ cpu: '1' }, { cpu: '1500m' }] }), node: node('n'), want: 'Insufficient cpu' },
    { name: 'an init container larger than the sum decides', pod: pod('p', { requests: [{ cpu: '100m' }], initRequests: [{ cpu: '3' }] }), node: node('n'), want: 'Insufficient cpu' },
    { name: 'a full pod count is Too many pods', pod: pod('p'), node: node('n', { pods: '1' }), existing: [pod('e', { nodeName: 'n' })], want: 'Too many pods' },
    { name: 'a pod without requests fits a node with no cpu left', pod: pod('p'), node: node('n', { cpu: '1' }), existing: [pod('e', { nodeName: 'n', requests: [{ cpu: '1' }] })], want: '' },
    { name: 'finished pods free their requests', pod: pod('p', { requests: [{ cpu: '2' }] }), node: node('n'), existing: [pod('e', { nodeName: 'n', phase: 'Succeeded', requests: [{ cpu: '2' }] })], want: '' },
  ];
  it.each(cases)('$name', ({ pod: p, node: n, existing, want }) => {
    expect(run(nodeResourcesFit, p, n, existing)).toBe(want);
  });

  it('takes the max of the container sum and each init container, per resource', () => {
    const p = pod('p', { requests: [{ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }], initRequests: [{ cpu: '500m', memory: '3Gi' }] });
    expect(podRequests(p)).toEqual({ milliCPU: 2000, memory: 3 * 1024 ** 3 });
  });
});

describe('NodePorts filter', () => {
  const taken = [pod('e', { nodeName: 'n', hostPorts: [{ hostPort: 8080 }, { hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] })];
  const cases: { name: string; ports: { hostPort: number; protocol?: 'TCP' | 'UDP'; hostIP?: string }[]; fits: boolean }[] = [
    { name: 'a free port fits', ports: [{ hostPort: 9090 }], fits: true },
    { name: 'the same TCP port does not fit', ports: [{ hostPort: 8080 }], fits: false },
    { name: 'the same port over UDP fits', ports: [{ hostPort: 8080, protocol: 'UDP' }], fits: true },
    { name: 'a port bound on another IP fits', ports: [{ hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.2' }], fits: true },
    { name: '0.0.0.0 clashes with a port bound on one IP', ports: [{ hostPort: 53, protocol: 'UDP' }], fits: false },
    { name: 'one IP clashes with a port bound on 0.0.0.0', ports: [{ hostPort: 8080, hostIP: '10.0.0.1' }], fits: false },
  ];
  it.each(cases)('$name', ({ ports, fits }) => {
    expect(run(nodePorts, pod('p', { hostPorts: ports }), node('n'), taken)).toBe(fits ? '' : REASON.nodePorts);
  });
});

describe('NodeUnschedulable filter', () => {
  it('rejects a cordoned node', () => {
    expect(run(nodeUnschedulable, pod('p'), node('n', { unschedulable: true }))).toBe('node(s) were unschedulable');
  });
  it('lets a pod tolerating the unschedulable taint onto a cordoned node', () => {
    const p = pod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    expect(run(nodeUnschedulable, p, node('n', { unschedulable: true }))).toBe('');
  });
  it('accepts an uncordoned node', () => {
    expect(run(nodeUnschedulable, pod('p'), node('n'))).toBe('');
  });
});

describe('TaintToleration filter', () => {
  const dedicated = node('n', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  const cases: { name: string; node: Node; tolerations?: NonNullable<Pod['spec']>['tolerations']; want: string }[] = [
    { name: 'a Ready node without taints fits', node: node('n'), want: '' },
    { name: 'a NotReady node has the not-ready taint', node: node('n', { ready: 'False' }), want: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }' },
    { name: 'a node without a Ready condition counts as not ready', node: node('n', { ready: null }), want: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }' },
    { name: 'a node with Ready Unknown has the unreachable taint', node: node('n', { ready: 'Unknown' }), want: 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }' },
    { name: 'an untolerated taint is named with its value', node: dedicated, want: 'node(s) had untolerated taint {dedicated: gpu}' },
    { name: 'an Equal toleration with the value tolerates it', node: dedicated, tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], want: '' },
    { name: 'an Equal toleration with another value does not', node: dedicated, tolerations: [{ key: 'dedicated', value: 'cpu' }], want: 'node(s) had untolerated taint {dedicated: gpu}' },
    { name: 'an Exists toleration of the key tolerates any value', node: dedicated, tolerations: [{ key: 'dedicated', operator: 'Exists' }], want: '' },
    { name: 'a toleration for another effect does not', node: dedicated, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }], want: 'node(s) had untolerated taint {dedicated: gpu}' },
    { name: 'an empty-key Exists toleration tolerates everything', node: node('n', { ready: 'False' }), tolerations: [{ operator: 'Exists' }], want: '' },
    { name: 'PreferNoSchedule taints never filter', node: node('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), want: '' },
  ];
  it.each(cases)('$name', ({ node: n, tolerations, want }) => {
    expect(run(taintToleration, pod('p', { spec: { tolerations } }), n)).toBe(want);
  });
});

describe('score plugins', () => {
  const snap = (...infos: ReturnType<typeof newNodeInfo>[]): Snapshot => ({ nodes: infos });

  it('LeastAllocated prefers the node with more room left', () => {
    const empty = newNodeInfo(node('a'), []);
    const busy = newNodeInfo(node('b'), [pod('e', { nodeName: 'b', requests: [{ cpu: '1', memory: '2Gi' }] })]);
    const p = pod('p', { requests: [{ cpu: '500m', memory: '1Gi' }] });
    expect(leastAllocated.score(p, empty, snap(empty, busy))).toBeCloseTo(75);
    expect(leastAllocated.score(p, busy, snap(empty, busy))).toBeCloseTo(25);
  });

  it('LeastAllocated counts a pod without requests as 100m and 200Mi', () => {
    const info = newNodeInfo(node('a', { cpu: '1', memory: '2000Mi' }), []);
    expect(leastAllocated.score(pod('p'), info, snap(info))).toBeCloseTo(((0.9 + 0.9) / 2) * 100);
  });

  const cases: { name: string; a: Pod[]; b: Pod[]; p: Pod; want: [number, number] }[] = [
    {
      name: 'SelectorSpread prefers the node with fewer pods of the same controller',
      a: [pod('r1', { nodeName: 'a', owner: 'rs-1' }), pod('r2', { nodeName: 'a', owner: 'rs-1' })],
      b: [pod('o1', { nodeName: 'b', owner: 'rs-2' }), pod('o2', { nodeName: 'b', owner: 'rs-2' }), pod('r3', { nodeName: 'b', owner: 'rs-1' })],
      p: pod('p', { owner: 'rs-1' }), want: [0, 50],
    },
    {
      name: 'SelectorSpread groups a pod without controller by identical labels in its namespace',
      a: [pod('x', { nodeName: 'a', labels: { app: 'web' } }), pod('y', { nodeName: 'a', labels: { app: 'web' }, namespace: 'other' })],
      b: [pod('z', { nodeName: 'b', labels: { app: 'web', tier: 'x' } })],
      p: pod('p', { labels: { app: 'web' } }), want: [0, 100],
    },
    {
      name: 'SelectorSpread counts every pod for a pod with neither controller nor labels',
      a: [pod('x', { nodeName: 'a' }), pod('y', { nodeName: 'a', owner: 'rs-9' })],
      b: [pod('z', { nodeName: 'b' })],
      p: pod('p'), want: [0, 50],
    },
    {
      name: 'SelectorSpread ignores siblings that are being deleted',
      a: [pod('r1', { nodeName: 'a', owner: 'rs-1', deleting: true })],
      b: [pod('r2', { nodeName: 'b', owner: 'rs-1' })],
      p: pod('p', { owner: 'rs-1' }), want: [100, 0],
    },
  ];
  it.each(cases)('$name', ({ a, b, p, want }) => {
    const s = buildSnapshot([node('a'), node('b')], [...a, ...b]);
    expect(s.nodes.map((n) => selectorSpread.score(p, n, s))).toEqual(want);
  });
});

describe('schedulePod', () => {
  const plugins = defaultPlugins();
  const msg = (nodes: Node[], p: Pod, pods: Pod[] = []) => {
    const r = schedulePod(p, buildSnapshot(nodes, pods), plugins);
    return 'message' in r ? r.message : `bound to ${r.node}`;
  };

  const cases: { name: string; nodes: Node[]; pod: Pod; pods?: Pod[]; want: string }[] = [
    {
      name: 'no node matching the selector says so for every node',
      nodes: [node('n1'), node('n2')], pod: pod('p', { spec: { nodeSelector: { gpu: 'true' } } }),
      want: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    },
    {
      name: 'different reasons are counted and sorted as strings',
      nodes: [node('n1', { labels: { gpu: 'true' }, cpu: '1' }), node('n2')],
      pod: pod('p', { spec: { nodeSelector: { gpu: 'true' } }, requests: [{ cpu: '2' }] }),
      want: "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
    },
    {
      name: 'every reason of a node is counted',
      nodes: [node('n1')], pod: pod('p', { requests: [{ cpu: '4', memory: '8Gi' }] }),
      want: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.',
    },
    {
      name: 'the first failing filter decides a node and counts sort with their number first',
      nodes: [node('n1', { unschedulable: true, cpu: '1' }), node('n2', { cpu: '1' }), node('n3', { ready: 'False' })],
      pod: pod('p', { requests: [{ cpu: '2' }] }),
      want: '0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.',
    },
    {
      name: 'a taken host port is reported',
      nodes: [node('n1')], pod: pod('p', { hostPorts: [{ hostPort: 80 }] }), pods: [pod('e', { nodeName: 'n1', hostPorts: [{ hostPort: 80 }] })],
      want: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.",
    },
    { name: 'no nodes at all says so', nodes: [], pod: pod('p'), want: 'no nodes available to schedule pods' },
    { name: 'the only fitting node is chosen', nodes: [node('n1'), node('n2', { labels: { gpu: 'true' } })], pod: pod('p', { spec: { nodeSelector: { gpu: 'true' } } }), want: 'bound to n2' },
    {
      name: 'the emptier node wins on resources',
      nodes: [node('n1'), node('n2')], pod: pod('p', { requests: [{ cpu: '100m' }] }),
      pods: [pod('e', { nodeName: 'n1', requests: [{ cpu: '1', memory: '1Gi' }] })], want: 'bound to n2',
    },
  ];
  it.each(cases)('$name', ({ nodes, pod: p, pods, want }) => {
    expect(msg(nodes, p, pods)).toBe(want);
  });

  it('reports each node\'s reasons for logs', () => {
    const r = schedulePod(pod('p', { requests: [{ cpu: '4', memory: '8Gi' }] }), buildSnapshot([node('n1'), node('n2', { ready: 'False' })], []), plugins);
    expect(r).toEqual({
      unschedulable: true,
      message: '0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
      perNode: { n1: 'Insufficient cpu, Insufficient memory', n2: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }' },
    });
  });

  it('spreads six replicas of one controller three and three over two equal nodes', () => {
    const nodes = [node('n1'), node('n2')];
    const placed: Pod[] = [];
    for (let i = 0; i < 6; i++) {
      const p = pod(`web-${i}`, { owner: 'rs-web', labels: { app: 'web' } });
      const r = schedulePod(p, buildSnapshot(nodes, placed), plugins);
      if (!('node' in r)) throw new Error(r.message);
      placed.push({ ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: r.node } });
    }
    const per = (n: string) => placed.filter((p) => p.spec?.nodeName === n).length;
    expect([per('n1'), per('n2')]).toEqual([3, 3]);
  });

  it('counts assumed pods on the node they were bound to', () => {
    const nodes = [node('n1', { pods: '1' }), node('n2', { pods: '1' })];
    const waiting = pod('w1');
    const s = buildSnapshot(nodes, [waiting], new Map([['default/w1', 'n1']]));
    expect(schedulePod(pod('p'), s, plugins)).toEqual({ node: 'n2' });
  });

  it('breaks ties the same way every time for the same pod', () => {
    const s = buildSnapshot([node('n1'), node('n2'), node('n3')], []);
    const first = schedulePod(pod('same'), s, plugins);
    expect(schedulePod(pod('same'), s, plugins)).toEqual(first);
    const chosen = new Set(Array.from({ length: 30 }, (_, i) => {
      const r = schedulePod(pod(`p${i}`), s, plugins);
      return 'node' in r ? r.node : '';
    }));
    expect(chosen.size).toBe(3);
  });

  it('formats a FitError from a reason histogram', () => {
    expect(fitErrorMessage(3, new Map([['a', ['Too many pods']], ['b', ['Too many pods']], ['c', ['Insufficient memory']]])))
      .toBe('0/3 nodes are available: 1 Insufficient memory, 2 Too many pods.');
  });
});

describe('scheduler helpers', () => {
  it('sets PodScheduled=False and keeps the other conditions', () => {
    const got = withScheduledFalse([{ type: 'Initialized', status: 'True' }], 'm1', 't1');
    expect(got).toEqual([
      { type: 'Initialized', status: 'True' },
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'm1', lastTransitionTime: 't1' },
    ]);
  });
  it('writes nothing when the same message is already there', () => {
    const cur = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'm1', lastTransitionTime: 't1' }];
    expect(withScheduledFalse(cur, 'm1', 't2')).toBeUndefined();
  });
  it('keeps lastTransitionTime when only the message changes', () => {
    const cur = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'm1', lastTransitionTime: 't1' }];
    expect(withScheduledFalse(cur, 'm2', 't2')).toEqual([{ ...cur[0], message: 'm2' }]);
  });
  it('treats a heartbeat as no scheduling change, a label as one', () => {
    const a = node('n');
    const heartbeat: Node = { ...a, status: { ...a.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 'later' }] } };
    expect(nodeSchedulingChanged(a, heartbeat)).toBe(false);
    expect(nodeSchedulingChanged(a, { ...a, metadata: { ...a.metadata, labels: { gpu: 'true' } } })).toBe(true);
    expect(nodeSchedulingChanged(a, node('n', { ready: 'False' }))).toBe(true);
  });
});
