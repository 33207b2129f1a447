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

const FNV_OFFSET = 0x811c9dc5;

/** 32-bit FNV-1a of `s`, continuing from `h`: a cheap, stable hash for tie-breaking. */
function fnv1a(s: string, h = FNV_OFFSET): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** kube-scheduler's `minFeasibleNodesToFind`: below this many nodes, every node is filtered. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** kube-scheduler's `minFeasibleNodesPercentageToFind`: the adaptive percentage's floor. */
const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/**
 * How many feasible nodes to look for before scoring (kube-scheduler's `numFeasibleNodesToFind`):
 * every node below 100 nodes; otherwise `percentage` of them (adaptive when 0 or unset:
 * 50 − nodes/125, at least 5), but never fewer than 100.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.trunc(numAllNodes / 125));
  const n = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, n);
}

/** Where a cycle starts filtering and how much of the cluster it may stop after. */
export interface CycleOptions {
  /** Index into `snapshot.nodes` where filtering starts, wrapping around (default 0). */
  startIndex?: number;
  /** kube-scheduler's `percentageOfNodesToScore`; 0 or unset: adaptive (see `numFeasibleNodesToFind`). */
  percentageOfNodesToScore?: number;
}

/** What a cycle thought of one node: the filter reasons that ruled it out, or its total score. */
export interface NodeVerdict {
  node: string;
  fits: boolean;
  reasons?: string[];
  /** Weighted sum of the score plugins (absent when only one node fit: nothing was scored). */
  score?: number;
}

/** A cycle's decision and how many nodes it filtered (to move the next cycle's start past them). */
export interface CycleResult {
  result: ScheduleResult;
  /** Nodes run through the filters, from `startIndex` on. */
  processed: number;
  /** Each filtered node's verdict, in filtering order (for traces and logs). */
  verdicts: NodeVerdict[];
}

/**
 * Picks a node for `pod` from `snapshot` (every node filtered, starting at the first). See
 * `scheduleCycle`, which this is with default options.
 */
export function schedulePod(pod: Pod, snapshot: Snapshot, plugins: Plugins): ScheduleResult {
  return scheduleCycle(pod, snapshot, plugins, { percentageOfNodesToScore: 100 }).result;
}

/**
 * One scheduling cycle, as kube-scheduler runs it. Filters run in order and the first rejection
 * decides a node's reasons. Nodes are filtered from `startIndex` round the cluster until
 * `numFeasibleNodesToFind` of them pass (so on a large cluster only a share is looked at, and a
 * rotating start spreads pods over all of it); when none passes, every node was filtered and the
 * FitError counts them all. The passing nodes are scored by every score plugin (weighted sum,
 * each plugin seeing the passing nodes as its snapshot). Among equally scored nodes the pick is a
 * stable hash of pod and node name, so equal nodes still share out a stream of pods, the way
 * kube-scheduler picks at random among the best. Pure: no I/O, same input same answer.
 */
export function scheduleCycle(pod: Pod, snapshot: Snapshot, plugins: Plugins, opts: CycleOptions = {}): CycleResult {
  const all = snapshot.nodes;
  if (!all.length) return { result: { unschedulable: true, message: NO_NODES_MESSAGE, perNode: {} }, processed: 0, verdicts: [] };
  const toFind = numFeasibleNodesToFind(all.length, opts.percentageOfNodesToScore);
  const start = ((opts.startIndex ?? 0) % all.length + all.length) % all.length;
  const feasible: NodeInfo[] = [];
  const failed = new Map<string, string[]>();
  const verdicts: NodeVerdict[] = [];
  /** The verdicts of `feasible`, index for index (scores are filled in below). */
  const fitting: NodeVerdict[] = [];
  let processed = 0;
  while (processed < all.length && feasible.length < toFind) {
    const info = all[(start + processed) % all.length];
    processed++;
    let reasons: string[] = [];
    for (const f of plugins.filters) {
      const status = f.filter(pod, info);
      if (!status.ok) {
        reasons = reasonsOf(status);
        break;
      }
    }
    if (reasons.length) {
      failed.set(info.name, reasons);
      verdicts.push({ node: info.name, fits: false, reasons });
    } else {
      feasible.push(info);
      fitting.push({ node: info.name, fits: true });
      verdicts.push(fitting[fitting.length - 1]);
    }
  }
  if (!feasible.length) {
    const perNode = Object.fromEntries([...failed].map(([n, r]) => [n, r.join(', ')]));
    return { result: { unschedulable: true, message: fitErrorMessage(all.length, failed), perNode }, processed, verdicts };
  }
  if (feasible.length === 1) return { result: { node: feasible[0].name }, processed, verdicts };

  const candidates: Snapshot = { nodes: feasible };
  const scorers = plugins.scores.map((s) => ({
    weight: s.weight ?? 1,
    score: s.prepare ? s.prepare(pod, candidates) : (info: NodeInfo) => s.score(pod, info, candidates),
  }));
  const podKey = pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  const podHash = fnv1a(`${podKey}/`);
  let best = { name: '', score: -Infinity, tie: 0 };
  for (const [i, info] of feasible.entries()) {
    let score = 0;
    for (const s of scorers) score += s.weight * clampScore(s.score(info));
    fitting[i].score = score;
    const tie = fnv1a(info.name, podHash);
    // Scores are sums of fractions: treat differences below 1e-9 as equal.
    if (score > best.score + 1e-9 || (Math.abs(score - best.score) <= 1e-9 && tie < best.tie)) {
      best = { name: info.name, score, tie };
    }
  }
  return { result: { node: best.name }, processed, verdicts };
}

function clampScore(n: number): number {
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : 0;
}
