/**
 * The node lifecycle controller (Kubernetes' `pkg/controller/nodelifecycle` with its taint-based
 * eviction): notices nodes whose kubelet stopped posting status, marks them `Ready=Unknown`,
 * taints them `node.kubernetes.io/unreachable` (NoSchedule and NoExecute), marks their pods not
 * ready, and after the eviction timeout deletes their pods so that their controllers replace
 * them on healthy nodes. A node whose kubelet posts again gets its taints removed.
 *
 * Staleness is judged as Kubernetes does it: by when this controller last *saw* the Ready
 * condition's `lastHeartbeatTime` change (on its own injected clock), not by comparing that
 * timestamp with its clock, so clock skew between machines (or a test's fake clock) does not
 * matter. A timer (every `nodeMonitorPeriodMs`) and node updates only enqueue node names; the
 * worker plans with the pure {@link planNodeHealth}, {@link planNodeTaints} and
 * {@link planPodEvictions}, then acts.
 *
 * Eviction: a pod is evicted when the NoExecute taint has been on its node longer than the pod
 * tolerates it (`tolerationSeconds` of a matching toleration; a matching toleration without
 * seconds means never). A pod without a matching toleration gets `podEvictionTimeout`, standing
 * in for the 300 s tolerations Kubernetes' DefaultTolerationSeconds admission adds to every pod.
 * Since no kubelet will finish a pod on a lost node, a pod still there once its grace period is
 * over is force-deleted (grace 0), as Kubernetes' pod GC does for pods on out-of-service nodes.
 */
import { ApiError } from '../api/errors.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { KubeObject, NodeCondition, Pod, Toleration } from '../api/types.js';
import { NODES, PODS } from '../client/client.js';
import { EventRecorder, kubeTime } from '../client/events.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';
import { isPodReady, timeMs } from './podutil.js';
import { inNamespace, type NodeObject, type PodObject } from './types.js';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
export const DEFAULT_POD_EVICTION_TIMEOUT_MS = 300_000;
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 1000;

/** The condition types a kubelet posts; all become Unknown when it stops. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** What the controller remembers of a node between looks. */
export interface NodeHealth {
  /** The Ready condition's `lastHeartbeatTime` last seen. */
  heartbeat: string;
  /** Controller-clock time (ms) the heartbeat was last seen to change. */
  probeAt: number;
  /** The Ready status last seen. */
  ready?: string;
}

export interface NodeHealthPlan {
  health: NodeHealth;
  /** The node's conditions with the kubelet's ones turned Unknown, when it went silent. */
  conditions?: NodeCondition[];
  /** Ready went from True to something else: record NodeNotReady, mark its pods not ready. */
  becameNotReady: boolean;
}

/**
 * Judges a node's health (Kubernetes' `tryUpdateNodeHealth`): a heartbeat not seen to change
 * for longer than `gracePeriodMs` turns every kubelet condition that is not Unknown yet into
 * `Unknown` (`NodeStatusUnknown`, "Kubelet stopped posting node status."; a condition the
 * kubelet never posted is added as `NodeStatusNeverUpdated`), keeping `lastHeartbeatTime`.
 */
export function planNodeHealth(node: NodeObject, saved: NodeHealth | undefined, nowMs: number, gracePeriodMs: number): NodeHealthPlan {
  const conds = node.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  const heartbeat = ready?.lastHeartbeatTime ?? '';
  const probeAt = !saved || saved.heartbeat !== heartbeat ? nowMs : saved.probeAt;
  let status = ready?.status;
  let conditions: NodeCondition[] | undefined;
  if (nowMs - probeAt > gracePeriodMs) {
    const now = kubeTime(new Date(nowMs));
    let changed = false;
    const next = conds.map((c) => ({ ...c }));
    for (const type of KUBELET_CONDITIONS) {
      const c = next.find((x) => x.type === type);
      if (!c) {
        next.push({
          type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
          lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: now,
        });
        changed = true;
      } else if (c.status !== 'Unknown') {
        Object.assign(c, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now });
        changed = true;
      }
    }
    if (changed) {
      conditions = next;
      status = 'Unknown';
    }
  }
  const previous = saved?.ready ?? ready?.status;
  return {
    health: { heartbeat, probeAt, ready: status },
    ...(conditions ? { conditions } : {}),
    becameNotReady: previous === 'True' && status !== 'True',
  };
}

/**
 * The node's taints for a Ready status (`doNoScheduleTaintingPass` + `doNoExecuteTaintingPass`):
 * Unknown → `unreachable`, False → `not-ready`, each NoSchedule and NoExecute (the NoExecute one
 * stamped `timeAdded`); True → neither. Returns the new list, or undefined if nothing changes.
 */
export function planNodeTaints(taints: readonly Taint[], readyStatus: string | undefined, now: Date): Taint[] | undefined {
  const key = readyStatus === 'Unknown' ? TAINT_UNREACHABLE : readyStatus === 'False' ? TAINT_NOT_READY : undefined;
  if (readyStatus === undefined) return undefined;
  const ours = (t: Taint) => (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  const keep = taints.filter((t) => !ours(t) || t.key === key);
  const next = [...keep];
  if (key) {
    if (!next.some((t) => t.key === key && t.effect === 'NoSchedule')) next.push({ key, effect: 'NoSchedule' });
    if (!next.some((t) => t.key === key && t.effect === 'NoExecute')) next.push({ key, effect: 'NoExecute', timeAdded: kubeTime(now) });
  }
  return JSON.stringify(next) === JSON.stringify(taints) ? undefined : next;
}

function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  if (tol.operator === 'Exists') return true;
  return (tol.value ?? '') === (taint.value ?? '');
}

/**
 * When (ms) a pod must leave a node with this NoExecute taint: `timeAdded` plus the shortest
 * `tolerationSeconds` of the matching tolerations, or plus `defaultMs` without one; undefined
 * when a matching toleration has no limit (tolerated forever).
 */
export function evictionTime(pod: Pod, taint: Taint, defaultMs: number): number | undefined {
  const added = timeMs(taint.timeAdded) ?? 0;
  const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
  if (matching.length === 0) return added + defaultMs;
  if (matching.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)) return undefined;
  return added + Math.max(0, Math.min(...matching.map((t) => t.tolerationSeconds ?? 0))) * 1000;
}

export interface PodEvictionPlan<P extends Pod = Pod> {
  /** Ready pods on a node that is not ready: set their Ready condition False. */
  markNotReady: P[];
  /** Pods whose toleration of the NoExecute taint ran out: delete (gracefully). */
  evict: P[];
  /** Pods being deleted on a node that is not ready whose grace period is over: delete with grace 0. */
  forceDelete: P[];
}

/**
 * Plans what happens to the pods of one node (Kubernetes' `MarkPodsNotReady` and the taint
 * eviction controller). `forceAt` gives, per pod uid, when this controller's own eviction's
 * grace period ends; pods deleted by others use their `deletionTimestamp`.
 */
export function planPodEvictions<P extends Pod>(node: NodeObject, pods: readonly P[], nowMs: number, defaultEvictionMs: number,
  forceAt: ReadonlyMap<string, number> = new Map()): PodEvictionPlan<P> {
  const plan: PodEvictionPlan<P> = { markNotReady: [], evict: [], forceDelete: [] };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  if (ready === 'True' || ready === undefined) return plan;
  const noExecute = (node.spec?.taints ?? []).find((t) => (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && t.effect === 'NoExecute');
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) {
      const at = forceAt.get(pod.metadata.uid ?? '') ?? timeMs(pod.metadata.deletionTimestamp) ?? 0;
      if (nowMs >= at) plan.forceDelete.push(pod);
      continue;
    }
    if (isPodReady(pod)) plan.markNotReady.push(pod);
    if (noExecute) {
      const at = evictionTime(pod, noExecute, defaultEvictionMs);
      if (at !== undefined && nowMs >= at) plan.evict.push(pod);
    }
  }
  return plan;
}

export interface NodeLifecycleControllerOptions extends ControllerContext {
  /** How long a heartbeat may stay unchanged before the node is Unknown (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** How long pods without a matching toleration stay on an unreachable node (default 300 s). */
  podEvictionTimeoutMs?: number;
  /** How often every node is looked at (default 1 s). */
  nodeMonitorPeriodMs?: number;
}

const podRef = (p: KubeObject): KubeObject => ({ kind: 'Pod', apiVersion: 'v1', metadata: p.metadata });
const nodeRef = (n: KubeObject): KubeObject => ({ kind: 'Node', apiVersion: 'v1', metadata: { ...n.metadata, uid: n.metadata?.uid ?? n.metadata?.name } });

export class NodeLifecycleController extends Controller {
  private readonly nodes: Informer<NodeObject>;
  private readonly pods: Informer<PodObject>;
  private readonly grace: number;
  private readonly evictionMs: number;
  private readonly periodMs: number;
  private readonly health = new Map<string, NodeHealth>();
  /** Pod uid → when the grace period of our eviction ends (controller clock, ms). */
  private readonly forceAt = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  /** Two workers; events are reported as `node-controller`, as Kubernetes does. */
  constructor(opts: NodeLifecycleControllerOptions) {
    super('node-lifecycle-controller', {
      ...opts,
      recorder: opts.recorder ?? new EventRecorder(opts.client, 'node-controller', undefined, { clock: opts.clock, log: opts.log }),
    }, { workers: 2, baseDelayMs: 200, maxDelayMs: 10_000, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.grace = opts.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
    this.evictionMs = opts.podEvictionTimeoutMs ?? DEFAULT_POD_EVICTION_TIMEOUT_MS;
    this.periodMs = opts.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
    this.nodes = this.informer<NodeObject>(NODES);
    this.pods = this.informer<PodObject>(PODS);
    this.nodes.addHandlers(this.enqueueHandlers());
  }

  /** Every node is looked at each period, so a node whose heartbeat stops is noticed. */
  protected override onStart(): void {
    this.timer = setInterval(() => {
      for (const n of this.nodes.list()) this.enqueue(n);
    }, this.periodMs);
    this.timer.unref?.();
  }

  protected override onStop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  protected async sync(name: string): Promise<void> {
    let node = this.nodes.get(name);
    if (!node) {
      this.health.delete(name);
      return;
    }
    const now = this.clock();
    const h = planNodeHealth(node, this.health.get(name), now.getTime(), this.grace);
    if (h.conditions) {
      node = await this.client.updateStatus<NodeObject>(NODES, { ...node, status: { ...node.status, conditions: h.conditions } });
      this.log(`node-lifecycle-controller: node ${name} stopped posting status; marked Ready=Unknown`);
    }
    this.health.set(name, h.health);
    if (h.becameNotReady) void this.recorder.event(nodeRef(node), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);

    const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    const taints = planNodeTaints(node.spec?.taints ?? [], ready, now);
    if (taints) {
      node = await this.client.patch<NodeObject>(NODES, name, {
        metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: taints.length ? taints : null },
      });
      this.log(`node-lifecycle-controller: node ${name} taints: ${taints.map((t) => `${t.key}:${t.effect}`).join(', ') || 'none'}`);
    }

    const pods = this.pods.list().filter((p) => p.spec?.nodeName === name);
    const plan = planPodEvictions(node, pods, now.getTime(), this.evictionMs, this.forceAt);
    await Promise.all([
      ...plan.markNotReady.map((p) => this.markNotReady(p, now)),
      ...plan.evict.map((p) => this.evict(p, now)),
      ...plan.forceDelete.map((p) => this.forceDelete(p)),
    ]);
    for (const uid of this.forceAt.keys()) if (!this.pods.list().some((p) => p.metadata?.uid === uid)) this.forceAt.delete(uid);
  }

  private async markNotReady(pod: PodObject, now: Date): Promise<void> {
    const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: kubeTime(now) } : c));
    try {
      await this.client.patch(inNamespace(PODS, pod.metadata?.namespace), pod.metadata?.name ?? '', { status: { conditions } }, 'status');
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
      return;
    }
    void this.recorder.event(podRef(pod), 'Warning', 'NodeNotReady', 'Node is not ready');
  }

  private async evict(pod: PodObject, now: Date): Promise<void> {
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.forceAt.set(pod.metadata?.uid ?? '', now.getTime() + grace * 1000);
    void this.recorder.event(podRef(pod), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
    await this.deletePod(pod, undefined);
    this.log(`node-lifecycle-controller: evicted pod ${pod.metadata?.namespace}/${pod.metadata?.name} from node ${pod.spec?.nodeName}`);
  }

  private async forceDelete(pod: PodObject): Promise<void> {
    await this.deletePod(pod, 0);
    this.forceAt.delete(pod.metadata?.uid ?? '');
    this.log(`node-lifecycle-controller: force-deleted pod ${pod.metadata?.namespace}/${pod.metadata?.name} on unreachable node ${pod.spec?.nodeName}`);
  }

  private async deletePod(pod: PodObject, gracePeriodSeconds: number | undefined): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    try {
      await this.client.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod.metadata?.name ?? '')}`, {
        kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pod.metadata?.uid },
        ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
      });
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }
}
