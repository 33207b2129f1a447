/** Small builders of nodes and pods for the scheduler tests. */
import type { Container, Node, NodeSpec, Pod, PodSpec } from '../../src/api/types.js';

export interface NodeOpts {
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  pods?: string;
  /** Ready condition status; `null` leaves the condition out. */
  ready?: 'True' | 'False' | 'Unknown' | null;
  unschedulable?: boolean;
  taints?: NodeSpec['taints'];
}

export function node(name: string, o: NodeOpts = {}): Node {
  const ready = o.ready === undefined ? 'True' : o.ready;
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: o.labels ?? { 'kubernetes.io/hostname': name } },
    spec: { unschedulable: o.unschedulable, taints: o.taints },
    status: {
      allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '4Gi', pods: o.pods ?? '110' },
      conditions: ready === null ? [] : [{ type: 'Ready', status: ready }],
    },
  };
}

export interface PodOpts {
  namespace?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  /** Per container: `{cpu, memory}` requests. */
  requests?: { cpu?: string; memory?: string }[];
  initRequests?: { cpu?: string; memory?: string }[];
  hostPorts?: { hostPort: number; protocol?: 'TCP' | 'UDP'; hostIP?: string }[];
  spec?: Partial<PodSpec>;
  /** Controller ownerReference uid. */
  owner?: string;
  phase?: string;
  deleting?: boolean;
}

function container(name: string, req?: { cpu?: string; memory?: string }): Container {
  const requests: Record<string, string> = {};
  if (req?.cpu) requests.cpu = req.cpu;
  if (req?.memory) requests.memory = req.memory;
  return { name, image: 'nginx', resources: Object.keys(requests).length ? { requests } : undefined };
}

export function pod(name: string, o: PodOpts = {}): Pod {
  const containers = (o.requests ?? [{}]).map((r, i) => container(`c${i}`, r));
  if (o.hostPorts) containers[0].ports = o.hostPorts.map((p) => ({ containerPort: p.hostPort, ...p }));
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: o.namespace ?? 'default', uid: `uid-${name}`, labels: o.labels,
      ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true }] : undefined,
      deletionTimestamp: o.deleting ? '2024-01-01T00:00:00Z' : undefined,
    },
    spec: {
      containers,
      initContainers: o.initRequests?.map((r, i) => container(`init${i}`, r)),
      nodeName: o.nodeName,
      ...o.spec,
    },
    status: { phase: o.phase ?? 'Pending' },
  };
}
