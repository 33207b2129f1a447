import { describe, expect, it } from 'vitest';
import { age, eventRow, humanDuration, nodeRow, podPhaseCounts, podRow, podsStatusLine } from '../../src/api/podstatus.js';
import type { ContainerStatus, Event, Node, Pod, PodStatus } from '../../src/api/types.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [-1500, '0s'],
    [-2 * S, '<invalid>'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [120 * S, '2m'],
    [200 * S, '3m20s'],
    [10 * M, '10m'],
    [125 * M, '125m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'],
    [8 * H, '8h'],
    [47 * H, '47h'],
    [48 * H, '2d'],
    [3 * D + 4 * H, '3d4h'],
    [8 * D, '8d'],
    [400 * D, '400d'],
    [730 * D, '2y'],
    [740 * D, '2y10d'],
    [5 * 365 * D, '5y'],
    [9 * 365 * D, '9y'],
  ])('prints %d ms as %s', (ms, out) => {
    expect(humanDuration(ms)).toBe(out);
  });

  it('prints an unset timestamp as <unknown>', () => {
    expect(age(undefined, NOW)).toBe('<unknown>');
    expect(age(ago(90 * S), NOW)).toBe('90s');
  });
});

const running = (name: string, over: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, image: 'nginx', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: ago(H) } }, ...over });
const waiting = (name: string, reason: string, over: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, image: 'nginx', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason } }, ...over });
const terminated = (name: string, exitCode: number, reason?: string, signal?: number): ContainerStatus =>
  ({ name, image: 'nginx', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, ...(reason ? { reason } : {}), ...(signal ? { signal } : {}) } } });

function makePod(status: PodStatus, over: { containers?: string[]; inits?: string[]; sidecars?: string[]; deleting?: boolean } = {}): Pod {
  const containers = (over.containers ?? ['web']).map((name) => ({ name, image: 'nginx' }));
  const inits = [
    ...(over.inits ?? []).map((name) => ({ name, image: 'busybox' })),
    ...(over.sidecars ?? []).map((name) => ({ name, image: 'envoy', restartPolicy: 'Always' })),
  ];
  return {
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(10 * M), ...(over.deleting ? { deletionTimestamp: ago(5 * S) } : {}) },
    spec: { containers, ...(inits.length ? { initContainers: inits } : {}) },
    status,
  };
}

const initialized = { type: 'Initialized', status: 'True' };

describe('podRow', () => {
  it.each<[string, Pod, { ready: string; status: string; restarts?: string }]>([
    ['a pending pod', makePod({ phase: 'Pending' }), { ready: '0/1', status: 'Pending' }],
    ['a pod creating its container', makePod({ phase: 'Pending', containerStatuses: [waiting('web', 'ContainerCreating')] }), { ready: '0/1', status: 'ContainerCreating' }],
    ['a running pod', makePod({ phase: 'Running', containerStatuses: [running('web')] }), { ready: '1/1', status: 'Running' }],
    ['a pod with one of two containers ready', makePod({ phase: 'Running', containerStatuses: [running('web'), running('log', { ready: false })] }, { containers: ['web', 'log'] }), { ready: '1/2', status: 'Running' }],
    ['a failed image pull', makePod({ phase: 'Pending', containerStatuses: [waiting('web', 'ErrImagePull')] }), { ready: '0/1', status: 'ErrImagePull' }],
    ['an image pull back-off', makePod({ phase: 'Pending', containerStatuses: [waiting('web', 'ImagePullBackOff')] }), { ready: '0/1', status: 'ImagePullBackOff' }],
    ['an image that may not be pulled', makePod({ phase: 'Pending', containerStatuses: [waiting('web', 'ErrImageNeverPull')] }), { ready: '0/1', status: 'ErrImageNeverPull' }],
    ['a crash loop', makePod({ phase: 'Running', containerStatuses: [waiting('web', 'CrashLoopBackOff', { restartCount: 5, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(5 * M) } } })] }), { ready: '0/1', status: 'CrashLoopBackOff', restarts: '5 (5m ago)' }],
    ['a completed pod', makePod({ phase: 'Succeeded', containerStatuses: [terminated('web', 0, 'Completed')] }), { ready: '0/1', status: 'Completed' }],
    ['a failed container', makePod({ phase: 'Failed', containerStatuses: [terminated('web', 1, 'Error')] }), { ready: '0/1', status: 'Error' }],
    ['a container killed by a signal', makePod({ phase: 'Failed', containerStatuses: [terminated('web', 137, undefined, 9)] }), { ready: '0/1', status: 'Signal:9' }],
    ['a container that exited without reason', makePod({ phase: 'Failed', containerStatuses: [terminated('web', 2)] }), { ready: '0/1', status: 'ExitCode:2' }],
    ['the first of two init containers running', makePod({ phase: 'Pending', initContainerStatuses: [running('init-a', { ready: false }), waiting('init-b', 'PodInitializing')], containerStatuses: [waiting('web', 'PodInitializing')] }, { inits: ['init-a', 'init-b'] }), { ready: '0/1', status: 'Init:0/2' }],
    ['the second of two init containers running', makePod({ phase: 'Pending', initContainerStatuses: [terminated('init-a', 0, 'Completed'), running('init-b', { ready: false })], containerStatuses: [waiting('web', 'PodInitializing')] }, { inits: ['init-a', 'init-b'] }), { ready: '0/1', status: 'Init:1/2' }],
    ['a failed init container', makePod({ phase: 'Pending', initContainerStatuses: [terminated('init-a', 1, 'Error')], containerStatuses: [waiting('web', 'PodInitializing')] }, { inits: ['init-a'] }), { ready: '0/1', status: 'Init:Error' }],
    ['an init container in a crash loop', makePod({ phase: 'Pending', initContainerStatuses: [waiting('init-a', 'CrashLoopBackOff', { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(30 * S) } } })] }, { inits: ['init-a'] }), { ready: '0/1', status: 'Init:CrashLoopBackOff', restarts: '3 (30s ago)' }],
    ['an init container killed by a signal', makePod({ phase: 'Pending', initContainerStatuses: [terminated('init-a', 137, undefined, 9)] }, { inits: ['init-a'] }), { ready: '0/1', status: 'Init:Signal:9' }],
    ['init done, containers starting', makePod({ phase: 'Pending', conditions: [initialized], initContainerStatuses: [terminated('init-a', 0, 'Completed')], containerStatuses: [waiting('web', 'PodInitializing')] }, { inits: ['init-a'] }), { ready: '0/1', status: 'PodInitializing' }],
    ['a ready sidecar next to a running container', makePod({ phase: 'Running', conditions: [initialized], initContainerStatuses: [running('proxy')], containerStatuses: [running('web')] }, { sidecars: ['proxy'] }), { ready: '2/2', status: 'Running' }],
    ['a running pod being deleted', makePod({ phase: 'Running', containerStatuses: [running('web')] }, { deleting: true }), { ready: '1/1', status: 'Terminating' }],
    ['a completed pod being deleted', makePod({ phase: 'Succeeded', containerStatuses: [terminated('web', 0, 'Completed')] }, { deleting: true }), { ready: '0/1', status: 'Completed' }],
    ['a pod on a lost node being deleted', makePod({ phase: 'Running', reason: 'NodeLost', containerStatuses: [running('web')] }, { deleting: true }), { ready: '1/1', status: 'Unknown' }],
    ['an evicted pod', makePod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }), { ready: '0/1', status: 'Evicted' }],
    ['a scheduling-gated pod', makePod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }), { ready: '0/1', status: 'SchedulingGated' }],
    ['one completed and one running container, not ready', makePod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [terminated('job', 0, 'Completed'), running('web')] }, { containers: ['job', 'web'] }), { ready: '1/2', status: 'NotReady' }],
    ['one completed and one running container, ready', makePod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [terminated('job', 0, 'Completed'), running('web')] }, { containers: ['job', 'web'] }), { ready: '1/2', status: 'Running' }],
    ['restarts without a finish time', makePod({ phase: 'Running', containerStatuses: [running('web', { restartCount: 2 })] }), { ready: '1/1', status: 'Running', restarts: '2' }],
  ])('shows %s', (_, pod, want) => {
    const row = podRow(pod, NOW);
    expect({ ready: row.ready, status: row.status, restarts: row.restarts }).toEqual({ restarts: '0', ...want });
  });

  it('fills name, age and the wide columns', () => {
    const pod = makePod({ phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], conditions: [{ type: 'example.com/lb', status: 'True' }], containerStatuses: [running('web')] });
    pod.spec!.nodeName = 'node-1';
    pod.spec!.readinessGates = [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }];
    expect(podRow(pod, NOW)).toEqual({
      name: 'web', ready: '1/1', status: 'Running', restarts: '0', age: '10m',
      ip: '10.244.1.5', node: 'node-1', nominatedNode: '<none>', readinessGates: '1/2',
    });
  });

  it('shows <none> for an unscheduled pod', () => {
    expect(podRow(makePod({ phase: 'Pending' }), NOW)).toMatchObject({ ip: '<none>', node: '<none>', nominatedNode: '<none>', readinessGates: '<none>' });
  });
});

function makeNode(over: { ready?: string; unschedulable?: boolean; labels?: Record<string, string> } = {}): Node {
  return {
    metadata: { name: 'node-1', creationTimestamp: ago(3 * D + 4 * H), labels: over.labels ?? {} },
    spec: { unschedulable: over.unschedulable },
    status: {
      conditions: over.ready === undefined ? [] : [{ type: 'Ready', status: over.ready }],
      addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'node-1' }],
      nodeInfo: {
        kubeletVersion: 'v1.30.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'docker://24.0.7',
        architecture: 'amd64', bootID: '', machineID: '', kubeProxyVersion: '', operatingSystem: 'linux', systemUUID: '',
      },
    },
  };
}

describe('nodeRow', () => {
  it.each<[string, Node, string]>([
    ['a ready node', makeNode({ ready: 'True' }), 'Ready'],
    ['a node that is not ready', makeNode({ ready: 'False' }), 'NotReady'],
    ['a node whose kubelet stopped reporting', makeNode({ ready: 'Unknown' }), 'NotReady'],
    ['a node without Ready condition', makeNode(), 'Unknown'],
    ['a cordoned node', makeNode({ ready: 'True', unschedulable: true }), 'Ready,SchedulingDisabled'],
  ])('shows the status of %s', (_, node, status) => {
    expect(nodeRow(node, NOW).status).toBe(status);
  });

  it.each<[string, Record<string, string>, string]>([
    ['no role labels', { 'kubernetes.io/hostname': 'node-1' }, '<none>'],
    ['node-role labels, sorted', { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '' }, 'control-plane,worker'],
    ['the legacy role label', { 'kubernetes.io/role': 'master' }, 'master'],
    ['an empty role suffix', { 'node-role.kubernetes.io/': '' }, '<none>'],
  ])('shows the roles from %s', (_, labels, roles) => {
    expect(nodeRow(makeNode({ ready: 'True', labels }), NOW).roles).toBe(roles);
  });

  it('fills age, version and the wide columns', () => {
    expect(nodeRow(makeNode({ ready: 'True' }), NOW)).toEqual({
      name: 'node-1', status: 'Ready', roles: '<none>', age: '3d4h', version: 'v1.30.0',
      internalIP: '172.18.0.2', externalIP: '<none>', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntime: 'docker://24.0.7',
    });
  });

  it('shows <unknown> for node info the kubelet has not reported', () => {
    const node: Node = { metadata: { name: 'n' } };
    expect(nodeRow(node, NOW)).toMatchObject({ osImage: '<unknown>', kernelVersion: '<unknown>', containerRuntime: '<unknown>', internalIP: '<none>', age: '<unknown>' });
  });
});

describe('eventRow', () => {
  const base: Event = {
    metadata: { name: 'web.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled', message: '  Container image "nginx" already present on machine\n', type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(10 * M), lastTimestamp: ago(2 * M), count: 3,
  };

  it('fills every column', () => {
    expect(eventRow(base, NOW)).toEqual({
      lastSeen: '2m', type: 'Normal', reason: 'Pulled', object: 'pod/web', message: 'Container image "nginx" already present on machine',
      subobject: 'spec.containers{web}', source: 'kubelet, node-1', firstSeen: '10m', count: 3, name: 'web.17a',
    });
  });

  it.each<[string, Partial<Event>, Partial<ReturnType<typeof eventRow>>]>([
    ['no last timestamp', { lastTimestamp: undefined }, { lastSeen: '10m' }],
    ['only an eventTime', { firstTimestamp: undefined, lastTimestamp: undefined, eventTime: ago(45 * S) }, { lastSeen: '45s', firstSeen: '45s' }],
    ['a series', { series: { count: 7, lastObservedTime: ago(20 * S) } }, { lastSeen: '20s', count: 7 }],
    ['no count', { count: undefined }, { count: 1 }],
    ['a reporting controller instead of a source', { source: undefined, reportingComponent: 'default-scheduler', reportingInstance: '' }, { source: 'default-scheduler' }],
    ['an object without name', { involvedObject: { kind: 'Node' } }, { object: 'node' }],
  ])('handles %s', (_, over, want) => {
    expect(eventRow({ ...base, ...over }, NOW)).toMatchObject(want);
  });
});

describe('podPhaseCounts', () => {
  const owned = (phase: string, uid = 'rs-1'): Pod => ({
    metadata: { name: `p-${phase}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid, controller: true }] },
    spec: { containers: [] },
    status: { phase },
  });

  it('counts pods by phase and prints them as kubectl describe does', () => {
    const counts = podPhaseCounts([owned('Running'), owned('Running'), owned('Pending'), owned('Failed'), owned('Unknown')]);
    expect(counts).toEqual({ running: 2, waiting: 1, succeeded: 0, failed: 1 });
    expect(podsStatusLine(counts)).toBe('2 Running / 1 Waiting / 0 Succeeded / 1 Failed');
  });

  it('counts only the pods a given controller owns', () => {
    const orphan: Pod = { metadata: { name: 'o' }, spec: { containers: [] }, status: { phase: 'Running' } };
    expect(podPhaseCounts([owned('Running'), owned('Running', 'rs-2'), orphan, owned('Succeeded')], 'rs-1')).toEqual({ running: 1, waiting: 0, succeeded: 1, failed: 0 });
  });
});
