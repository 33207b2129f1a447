/**
 * One scheduling decision, as a pure function: filter every node, score the ones that fit, pick
 * the best; or explain, in kube-scheduler's words, why no node fits.
 */
import type { Pod } from '../api/types.js';
import type { NodeInfo, Plugins, Snapshot } from './framework.js';
import { reasonsOf } from './framework.js';

/** Where the pod goes, or why it cannot go anywhere (with each node's reasons, for logs). */
export type ScheduleResult =
  | { node: string }
  | { unschedulable: true; message: string; perNode: Record<string, string> };

/** kube-scheduler's message when the cluster has no nodes at all. */
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/**
 * The FitError message: `0/<all> nodes are available: <n> <reason>, ...` with each reason
 * counted over the nodes that gave it, the `<n> <reason>` strings sorted as plain strings (as
 * Kubernetes does), and a final period. `perNodeReasons` maps a node to its reasons.
 */
export function fitErrorMessage(numAllNodes: number, perNodeReasons: ReadonlyMap<string, readonly string[]>): string {
  const counts = new Map<string, number>();
  for (const reasons of perNodeReasons.values()) {
    for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const histogram = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  let msg = `0/${numAllNodes} nodes are available:`;
  if (histogram.length) msg += ` ${histogram.join(', ')}.`;
  return msg;
}

/** 32-bit FNV-1a: a cheap, stable hash for tie-breaking. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Picks a node for `pod` from `snapshot`. Filters run in order and the first rejection decides a
 * node's reasons; the nodes that pass are scored by every score plugin (weighted sum, each
 * plugin seeing the passing nodes as its snapshot). Among equally scored nodes the pick is a
 * stable hash of pod and node name, so equal nodes still share out a stream of pods, the way
 * kube-scheduler picks at random among the best. Pure: no I/O, same input same answer.
 */
export function schedulePod(pod: Pod, snapshot: Snapshot, plugins: Plugins): ScheduleResult {
  if (!snapshot.nodes.length) return { unschedulable: true, message: NO_NODES_MESSAGE, perNode: {} };
  const feasible: NodeInfo[] = [];
  const failed = new Map<string, string[]>();
  for (const info of snapshot.nodes) {
    let reasons: string[] = [];
    for (const f of plugins.filters) {
      reasons = reasonsOf(f.filter(pod, info));
      if (reasons.length) break;
    }
    if (reasons.length) failed.set(info.name, reasons);
    else feasible.push(info);
  }
  if (!feasible.length) {
    const perNode = Object.fromEntries([...failed].map(([n, r]) => [n, r.join(', ')]));
    return { unschedulable: true, message: fitErrorMessage(snapshot.nodes.length, failed), perNode };
  }
  if (feasible.length === 1) return { node: feasible[0].name };

  const candidates: Snapshot = { nodes: feasible };
  const podKey = pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  let best = { name: '', score: -Infinity, tie: 0 };
  for (const info of feasible) {
    let score = 0;
    for (const s of plugins.scores) score += (s.weight ?? 1) * clampScore(s.score(pod, info, candidates));
    const tie = fnv1a(`${podKey}/${info.name}`);
    // Scores are sums of fractions: treat differences below 1e-9 as equal.
    if (score > best.score + 1e-9 || (Math.abs(score - best.score) <= 1e-9 && tie < best.tie)) {
      best = { name: info.name, score, tie };
    }
  }
  return { node: best.name };
}

function clampScore(n: number): number {
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : 0;
}
