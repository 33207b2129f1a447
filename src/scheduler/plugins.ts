/**
 * The default filter and score plugins, mirroring kube-scheduler's `NodeUnschedulable`,
 * `TaintToleration`, `NodeAffinity`, `NodePorts`, `NodeResourcesFit` (filters) and
 * least-allocated / balanced-allocation / selector-spread scoring. Each is pure: it reads the
 * pod and the snapshot and returns a status or a number, with the reason texts Kubernetes uses.
 */
import type { Node, Pod } from '../api/types.js';
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { FilterPlugin, NodeInfo, Plugins, Resources, ScorePlugin, Snapshot } from './framework.js';
import { controllerUID, FIT_OK, labelSetKey, podHostPorts, podRequests, unschedulable } from './framework.js';

/** Reason texts, exactly as kube-scheduler words them. */
export const REASON = {
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  insufficientCPU: 'Insufficient cpu',
  insufficientMemory: 'Insufficient memory',
  tooManyPods: 'Too many pods',
  nodePorts: "node(s) didn't have free ports for the requested pod ports",
  unschedulable: 'node(s) were unschedulable',
  /** `node(s) had untolerated taint {key: value}`. */
  untoleratedTaint: (t: Pick<Taint, 'key' | 'value'>): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
} as const;

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

// ---------------------------------------------------------------------------------------------
// Filters

/** Whether one toleration tolerates one taint (empty key with `Exists` tolerates every taint). */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  if (tol.operator === 'Exists') return true;
  return (tol.value ?? '') === (taint.value ?? '');
}

/**
 * The node's taints plus the ones the node lifecycle controller would have put there for its
 * Ready condition (`not-ready` when False or missing, `unreachable` when Unknown), since our
 * nodes may report a condition without carrying the taint.
 */
export function effectiveTaints(node: Node): readonly Taint[] {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  // The common case, a Ready node: its own taints, not copied (filters run for every node).
  if (ready?.status === 'True') return node.spec?.taints ?? NO_TAINTS;
  const taints = [...(node.spec?.taints ?? [])];
  const implied = ready?.status === 'Unknown' ? TAINT_UNREACHABLE : TAINT_NOT_READY;
  if (!taints.some((t) => t.key === implied && t.effect === 'NoSchedule')) {
    taints.push({ key: implied, effect: 'NoSchedule' });
  }
  return taints;
}

const NO_TAINTS: readonly Taint[] = [];

/** Rejects cordoned nodes (`spec.unschedulable`) unless the pod tolerates the unschedulable taint. */
export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, { node }) {
    if (!node.spec?.unschedulable) return FIT_OK;
    const taint: Taint = { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' };
    const tolerated = (pod.spec?.tolerations ?? []).some((t) => toleratesTaint(t, taint));
    return tolerated ? FIT_OK : unschedulable(REASON.unschedulable);
  },
};

/**
 * Rejects nodes with a NoSchedule/NoExecute taint the pod does not tolerate, including the
 * not-ready/unreachable taints implied by the Ready condition (see `effectiveTaints`).
 */
export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, { node }) {
    const tolerations = pod.spec?.tolerations ?? [];
    for (const taint of effectiveTaints(node)) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tolerations.some((t) => toleratesTaint(t, taint))) return unschedulable(REASON.untoleratedTaint(taint));
    }
    return FIT_OK;
  },
};

/** Whether a node's labels satisfy one node selector requirement (In/NotIn/Exists/DoesNotExist/Gt/Lt). */
export function matchesRequirement(labels: Readonly<Record<string, string>>, req: NodeSelectorRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const have = parseInteger(value);
      const want = parseInteger(values[0]);
      if (have === undefined || want === undefined) return false;
      return req.operator === 'Gt' ? have > want : have < want;
    }
    default: return false;
  }
}

function parseInteger(s: string): bigint | undefined {
  return /^[+-]?\d+$/.test(s.trim()) ? BigInt(s.trim()) : undefined;
}

/**
 * Whether a node matches one node selector term: all its `matchExpressions` against labels and
 * all its `matchFields` against `metadata.name`. A term with neither matches nothing.
 */
export function matchesTerm(node: Node, term: NodeSelectorTerm): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata?.labels ?? {};
  const nodeFields: Record<string, string> = { 'metadata.name': node.metadata?.name ?? '' };
  return exprs.every((r) => matchesRequirement(labels, r))
    && fields.every((r) => r.key === 'metadata.name' && matchesRequirement(nodeFields, r));
}

/** Whether the node satisfies the pod's `nodeSelector` and required node affinity (terms are ORed). */
export function matchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => matchesTerm(node, t));
}

/** Shared: most nodes fail a selective pod's affinity, and statuses are never modified. */
const AFFINITY_MISMATCH = unschedulable(REASON.nodeAffinity);

/** Rejects nodes that fail the pod's `nodeSelector` or required node affinity. */
export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter: (pod, { node }) => (matchesNodeSelectorAndAffinity(pod, node) ? FIT_OK : AFFINITY_MISMATCH),
};

/**
 * Rejects nodes where a host port the pod wants is taken: same protocol and port, and the same
 * host IP or either side binding 0.0.0.0.
 */
export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  filter(pod, { usedPorts }) {
    for (const want of podHostPorts(pod)) {
      const clash = usedPorts.some((u) => u.protocol === want.protocol && u.hostPort === want.hostPort
        && (u.hostIP === want.hostIP || u.hostIP === '0.0.0.0' || want.hostIP === '0.0.0.0'));
      if (clash) return unschedulable(REASON.nodePorts);
    }
    return FIT_OK;
  },
};

/**
 * Rejects nodes without room for the pod: the pod count against `allocatable.pods`, then cpu
 * and memory requests against allocatable minus what the node's pods already request. Every
 * shortage is reported (e.g. both `Insufficient cpu` and `Insufficient memory`).
 */
export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod, info) {
    const reasons: string[] = [];
    if (info.pods.length + 1 > info.allocatable.pods) reasons.push(REASON.tooManyPods);
    const req = podRequests(pod);
    if (req.milliCPU > 0 && info.allocatable.milliCPU < req.milliCPU + info.requested.milliCPU) reasons.push(REASON.insufficientCPU);
    if (req.memory > 0 && info.allocatable.memory < req.memory + info.requested.memory) reasons.push(REASON.insufficientMemory);
    const [first, ...more] = reasons;
    return first === undefined ? FIT_OK : unschedulable(first, ...more);
  },
};

// ---------------------------------------------------------------------------------------------
// Scores

const MAX_SCORE = 100;

/** Fraction of a node's cpu and memory used once a pod with (non-zero) request `req` is added. */
function usedFractions(req: Readonly<Resources>, info: NodeInfo): [number, number] {
  const frac = (used: number, cap: number) => (cap <= 0 ? 1 : Math.min(1, used / cap));
  return [
    frac(info.nonZeroRequested.milliCPU + req.milliCPU, info.allocatable.milliCPU),
    frac(info.nonZeroRequested.memory + req.memory, info.allocatable.memory),
  ];
}

function leastAllocatedScore(req: Readonly<Resources>, info: NodeInfo): number {
  const [cpu, mem] = usedFractions(req, info);
  return (((1 - cpu) + (1 - mem)) / 2) * MAX_SCORE;
}

function balancedAllocationScore(req: Readonly<Resources>, info: NodeInfo): number {
  const [cpu, mem] = usedFractions(req, info);
  return (1 - Math.abs(cpu - mem) / 2) * MAX_SCORE;
}

/** Prefers nodes with the most cpu and memory left after placing the pod (equal weights). */
export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  score: (pod, info) => leastAllocatedScore(podRequests(pod, true), info),
  prepare(pod) {
    const req = podRequests(pod, true);
    return (info) => leastAllocatedScore(req, info);
  },
};

/** Prefers nodes whose cpu and memory use stay close to each other after placing the pod. */
export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  score: (pod, info) => balancedAllocationScore(podRequests(pod, true), info),
  prepare(pod) {
    const req = podRequests(pod, true);
    return (info) => balancedAllocationScore(req, info);
  },
};

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

/**
 * Which already-placed pods count as the pod's "siblings" for spreading: those with the same
 * controller (ownerReference with `controller: true`, e.g. one ReplicaSet); for a pod without
 * one, those in its namespace with exactly its labels; for a pod with neither, every pod.
 */
export function siblingMatcher(pod: Pod): (other: Pod) => boolean {
  const uid = controllerUID(pod);
  if (uid) return (o) => controllerUID(o) === uid;
  const labels = pod.metadata?.labels ?? {};
  const ns = pod.metadata?.namespace;
  if (Object.keys(labels).length) return (o) => o.metadata?.namespace === ns && sameLabels(labels, o.metadata?.labels ?? {});
  return () => true;
}

/**
 * How many siblings of `pod` (in `siblingMatcher`'s sense, not counting pods being deleted) a
 * node has, read from its spread counters in O(1).
 */
export function siblingCounter(pod: Pod): (info: NodeInfo) => number {
  const uid = controllerUID(pod);
  if (uid) return (info) => info.spread.byOwner.get(uid) ?? 0;
  if (Object.keys(pod.metadata?.labels ?? {}).length) {
    const key = labelSetKey(pod);
    return (info) => info.spread.byLabelSet.get(key) ?? 0;
  }
  return (info) => info.spread.live;
}

function spreadScorer(pod: Pod, snapshot: Snapshot): (info: NodeInfo) => number {
  const count = siblingCounter(pod);
  let max = 0;
  for (const n of snapshot.nodes) max = Math.max(max, count(n));
  return max === 0 ? () => MAX_SCORE : (info) => ((max - count(info)) / max) * MAX_SCORE;
}

/**
 * Spreads a controller's replicas: 100 on the candidate nodes with the fewest siblings of the
 * pod, falling linearly to 0 on the one with the most (see `siblingMatcher`). Weighted 2, like
 * kube-scheduler's default topology spreading, so it outweighs resource scores. The maximum
 * over the candidates is found once per cycle in `prepare`.
 */
export const selectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  weight: 2,
  score: (pod, info, snapshot) => spreadScorer(pod, snapshot)(info),
  prepare: spreadScorer,
};

/** The default plugin set, filters in kube-scheduler's order. */
export function defaultPlugins(): Plugins {
  return {
    filters: [nodeUnschedulable, taintToleration, nodeAffinity, nodePorts, nodeResourcesFit],
    scores: [leastAllocated, balancedAllocation, selectorSpread],
  };
}
