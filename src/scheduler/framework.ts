/**
 * The scheduling framework in miniature: the snapshot plugins read (`NodeInfo`), the two plugin
 * interfaces (`FilterPlugin`, `ScorePlugin`) and the pure helpers that turn nodes and pods into
 * a snapshot. Nothing here does I/O; the `Scheduler` keeps one `MutableNodeInfo` per node in
 * its `SchedulerCache` (updated incrementally) and hands them to `schedulePod` as the snapshot.
 */
import type { Container, Node, Pod } from '../api/types.js';
import { cpuToMillis, memoryToBytes } from '../api/quantity.js';

/** CPU in millicores and memory in bytes, the two resources the scheduler counts. */
export interface Resources {
  milliCPU: number;
  memory: number;
}

/** What a node offers to pods: `status.allocatable` cpu, memory and pod count. */
export interface Allocatable extends Resources {
  pods: number;
}

/** One host port a pod's container asks for; `hostIP` '' and `protocol` '' are sanitized. */
export interface HostPort {
  /** '0.0.0.0' when the container did not name an IP. */
  hostIP: string;
  /** 'TCP' when the container did not name a protocol. */
  protocol: string;
  hostPort: number;
}

/**
 * A read-only view of one node for one scheduling cycle: the node, the pods bound (or assumed
 * bound) to it, and the totals plugins need. Build it with `newNodeInfo`; never mutate it.
 */
export interface NodeInfo {
  readonly name: string;
  readonly node: Node;
  /** Pods on the node that are not terminal (Succeeded/Failed), including assumed ones. */
  readonly pods: readonly Pod[];
  /** Sum of the pods' effective requests, as `NodeResourcesFit` compares them. */
  readonly requested: Readonly<Resources>;
  /**
   * The same sum where an unset cpu/memory request counts as 100m / 200Mi, so that scoring
   * sees pods without requests as using something (kube-scheduler's "non-zero" requests).
   */
  readonly nonZeroRequested: Readonly<Resources>;
  readonly allocatable: Readonly<Allocatable>;
  /** Host ports already taken on the node. */
  readonly usedPorts: readonly HostPort[];
  /**
   * Counters for spreading, over the pods not being deleted: how many there are, how many per
   * controller uid, and how many per `namespace` + exact label set (see `labelSetKey`).
   */
  readonly spread: Readonly<SpreadCounts>;
}

/** Per-node counters `SelectorSpread` reads instead of walking the node's pods. */
export interface SpreadCounts {
  /** Pods on the node without a `deletionTimestamp`. */
  live: number;
  /** Live pods per controller ownerReference uid. */
  byOwner: ReadonlyMap<string, number>;
  /** Live pods per `labelSetKey(pod)`. */
  byLabelSet: ReadonlyMap<string, number>;
}

/** Every node considered in one scheduling cycle. */
export interface Snapshot {
  readonly nodes: readonly NodeInfo[];
}

/** The outcome of one filter: fits, or does not with a reason a user can read. */
export type FilterStatus =
  | { ok: true }
  | {
    ok: false;
    /** Kubernetes' reason text, e.g. `Insufficient cpu`; counted per node in the FitError message. */
    reason: string;
    /** Further reasons from the same plugin (e.g. `Insufficient memory` after `Insufficient cpu`). */
    moreReasons?: readonly string[];
  };

/**
 * A filter decides whether one node can run the pod. It must be pure: same pod and node info,
 * same answer; no I/O, no clock.
 */
export interface FilterPlugin {
  readonly name: string;
  filter(pod: Pod, nodeInfo: NodeInfo): FilterStatus;
}

/**
 * A score ranks a node that passed every filter, from 0 (worst) to 100 (best). `snapshot`
 * holds only the nodes that passed filtering, so a plugin can normalize against them. Pure.
 */
export interface ScorePlugin {
  readonly name: string;
  /** Multiplier applied to this plugin's score when summing (default 1). */
  readonly weight?: number;
  score(pod: Pod, nodeInfo: NodeInfo, snapshot: Snapshot): number;
  /**
   * Optional per-cycle preparation (kube-scheduler's PreScore): returns a function giving, for
   * each node of `snapshot`, the same number as `score(pod, nodeInfo, snapshot)`, with the work
   * shared by all nodes (parsing the pod, a maximum over nodes) done once. Pure.
   */
  prepare?(pod: Pod, snapshot: Snapshot): (nodeInfo: NodeInfo) => number;
}

/** The plugins one scheduling cycle runs, filters in order (the first rejection wins). */
export interface Plugins {
  filters: readonly FilterPlugin[];
  scores: readonly ScorePlugin[];
}

export const FIT_OK: FilterStatus = { ok: true };

/** A rejection with one or more reasons. */
export function unschedulable(reason: string, ...moreReasons: string[]): FilterStatus {
  return moreReasons.length ? { ok: false, reason, moreReasons } : { ok: false, reason };
}

/** All reasons of a status, in order (empty when it fits). */
export function reasonsOf(status: FilterStatus): string[] {
  return status.ok ? [] : [status.reason, ...(status.moreReasons ?? [])];
}

/** CPU kube-scheduler assumes for scoring when a container requests none (100m). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Memory kube-scheduler assumes for scoring when a container requests none (200Mi). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * Parses a quantity, treating an unparsable one as 0. Validation rejects bad quantities before
 * they are stored, so this only guards one bad object from failing every scheduling cycle.
 */
function quantity(parse: (q: string) => number, q: string | undefined): number {
  if (q === undefined || q === '') return 0;
  try {
    const v = parse(q);
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0; // rejected by validation on the way in; see the doc comment above
  }
}

function containerRequests(c: Container, nonZero: boolean): Resources {
  const req = c.resources?.requests ?? {};
  const cpu = req.cpu;
  const mem = req.memory;
  return {
    milliCPU: cpu === undefined && nonZero ? DEFAULT_MILLI_CPU_REQUEST : quantity(cpuToMillis, cpu),
    memory: mem === undefined && nonZero ? DEFAULT_MEMORY_REQUEST : quantity(memoryToBytes, mem),
  };
}

/**
 * Results per pod object. Pods come from informer caches and are never modified (a change is a
 * new object), so parsing each once is safe; a WeakMap lets them go with the object.
 */
const requestsMemo = new WeakMap<Pod, Readonly<Resources>>();
const nonZeroRequestsMemo = new WeakMap<Pod, Readonly<Resources>>();
const hostPortsMemo = new WeakMap<Pod, readonly HostPort[]>();

/**
 * A pod's effective request: the sum over its containers, raised to any single init
 * container's request (init containers run one at a time, before the others), plus
 * `spec.overhead`. With `nonZero`, unset requests count as 100m / 200Mi (for scoring only).
 * Computed once per pod object (pods are read-only); do not modify the result.
 */
export function podRequests(pod: Pod, nonZero = false): Readonly<Resources> {
  const memo = nonZero ? nonZeroRequestsMemo : requestsMemo;
  let r = memo.get(pod);
  if (!r) {
    r = computePodRequests(pod, nonZero);
    memo.set(pod, r);
  }
  return r;
}

function computePodRequests(pod: Pod, nonZero: boolean): Resources {
  const sum: Resources = { milliCPU: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) {
    const r = containerRequests(c, nonZero);
    sum.milliCPU += r.milliCPU;
    sum.memory += r.memory;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    sum.milliCPU = Math.max(sum.milliCPU, r.milliCPU);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  const overhead = pod.spec?.overhead;
  if (overhead) {
    sum.milliCPU += quantity(cpuToMillis, overhead.cpu);
    sum.memory += quantity(memoryToBytes, overhead.memory);
  }
  return sum;
}

/** The host ports a pod asks for (containers' `ports[].hostPort` > 0), sanitized; memoized per pod. */
export function podHostPorts(pod: Pod): readonly HostPort[] {
  let ports = hostPortsMemo.get(pod);
  if (!ports) {
    ports = computeHostPorts(pod);
    hostPortsMemo.set(pod, ports);
  }
  return ports;
}

function computeHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ hostIP: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', hostPort: p.hostPort });
    }
  }
  return out;
}

/** `status.allocatable` of a node; a missing entry is 0 (as in kube-scheduler). */
export function nodeAllocatable(node: Node): Allocatable {
  const a = node.status?.allocatable ?? {};
  const pods = Number.parseInt(a.pods ?? '0', 10);
  return {
    milliCPU: quantity(cpuToMillis, a.cpu),
    memory: quantity(memoryToBytes, a.memory),
    pods: Number.isFinite(pods) ? pods : 0,
  };
}

/** True once a pod has finished for good: it no longer uses its node's resources. */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The controller ownerReference uid of a pod, if any (what `SelectorSpread` groups replicas by). */
export function controllerUID(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
}

const labelSetMemo = new WeakMap<Pod, string>();

/**
 * `namespace` plus the pod's labels in key order, as one string: two pods have the same key
 * exactly when they are in one namespace with identical labels. Memoized per pod object.
 */
export function labelSetKey(pod: Pod): string {
  let key = labelSetMemo.get(pod);
  if (key === undefined) {
    const labels = pod.metadata?.labels ?? {};
    const parts = Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`);
    key = `${pod.metadata?.namespace ?? ''}\u0000${parts.join('\u0000')}`;
    labelSetMemo.set(pod, key);
  }
  return key;
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}

/**
 * A node's totals kept up to date as pods come and go (kube-scheduler's `NodeInfo` with
 * `AddPod`/`RemovePod`), so a scheduling cycle reads them instead of summing every pod. Owned
 * by one `SchedulerCache` (or built once by `newNodeInfo`); plugins see it as a read-only
 * `NodeInfo`. `removePod` must be given the same object `addPod` was, so what is subtracted is
 * exactly what was added.
 */
export class MutableNodeInfo implements NodeInfo {
  readonly pods: Pod[] = [];
  readonly requested: Resources = { milliCPU: 0, memory: 0 };
  readonly nonZeroRequested: Resources = { milliCPU: 0, memory: 0 };
  readonly usedPorts: HostPort[] = [];
  readonly spread = { live: 0, byOwner: new Map<string, number>(), byLabelSet: new Map<string, number>() };
  private _node: Node;
  private _allocatable: Allocatable;

  constructor(readonly name: string, node: Node) {
    this._node = node;
    this._allocatable = nodeAllocatable(node);
  }

  get node(): Node {
    return this._node;
  }

  get allocatable(): Readonly<Allocatable> {
    return this._allocatable;
  }

  /** Replaces the node object (labels, taints, allocatable may have changed). */
  setNode(node: Node): void {
    this._node = node;
    this._allocatable = nodeAllocatable(node);
  }

  addPod(pod: Pod): void {
    this.pods.push(pod);
    this.count(pod, 1);
    this.usedPorts.push(...podHostPorts(pod));
  }

  /** Takes away a pod added before; returns false (changing nothing) if it is not there. */
  removePod(pod: Pod): boolean {
    const i = this.pods.indexOf(pod);
    if (i < 0) return false;
    this.pods.splice(i, 1);
    this.count(pod, -1);
    for (const port of podHostPorts(pod)) {
      const j = this.usedPorts.findIndex((u) => u.hostPort === port.hostPort && u.protocol === port.protocol && u.hostIP === port.hostIP);
      if (j >= 0) this.usedPorts.splice(j, 1);
    }
    return true;
  }

  private count(pod: Pod, sign: 1 | -1): void {
    const r = podRequests(pod);
    this.requested.milliCPU += sign * r.milliCPU;
    this.requested.memory += sign * r.memory;
    const nz = podRequests(pod, true);
    this.nonZeroRequested.milliCPU += sign * nz.milliCPU;
    this.nonZeroRequested.memory += sign * nz.memory;
    if (pod.metadata?.deletionTimestamp) return;
    this.spread.live += sign;
    const owner = controllerUID(pod);
    if (owner) bump(this.spread.byOwner, owner, sign);
    bump(this.spread.byLabelSet, labelSetKey(pod), sign);
  }
}

/**
 * Builds the snapshot entry of one node from the pods assigned to it (terminal pods are left
 * out; pass only pods whose `spec.nodeName` is this node, or assumed to be).
 */
export function newNodeInfo(node: Node, pods: readonly Pod[]): NodeInfo {
  const info = new MutableNodeInfo(node.metadata?.name ?? '', node);
  for (const p of pods) if (!isTerminal(p)) info.addPod(p);
  return info;
}

/**
 * Builds a snapshot from nodes and pods in one go: each pod is counted on the node its
 * `spec.nodeName` names, or on `assumed.get(podKey)` when the scheduler has bound it but the
 * cache has not seen the update yet. `podKey` is `namespace/name`. For tests and one-off
 * decisions; the `Scheduler` keeps an incremental `SchedulerCache` instead.
 */
export function buildSnapshot(nodes: readonly Node[], pods: readonly Pod[], assumed: ReadonlyMap<string, string> = new Map()): Snapshot {
  const byNode = new Map<string, Pod[]>();
  for (const n of nodes) byNode.set(n.metadata?.name ?? '', []);
  for (const p of pods) {
    const key = `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
    const nodeName = p.spec?.nodeName || assumed.get(key);
    if (nodeName) byNode.get(nodeName)?.push(p);
  }
  return { nodes: nodes.map((n) => newNodeInfo(n, byNode.get(n.metadata?.name ?? '') ?? [])) };
}
