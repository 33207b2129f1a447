/**
 * The scheduler's cache, as kube-scheduler's `internal/cache`: one `MutableNodeInfo` per node,
 * kept current by the informers' add/update/delete events and by the scheduler "assuming" a pod
 * on the node it chose before the binding is written. A scheduling cycle reads the node infos
 * directly (`snapshot()`) instead of rebuilding totals from every pod.
 *
 * Pod lifecycle in the cache: `assumePod` (chosen, binding in flight) → `finishBinding` (POST
 * done; the informer should show `spec.nodeName` soon) → confirmed by `addPod`/`updatePod`
 * when the informer shows it bound. `forgetPod` undoes an assumption whose binding failed;
 * `cleanupExpired` drops assumptions the informer has not confirmed within the TTL after the
 * binding finished. Not reentrant-safe across threads (there are none): every method runs to
 * completion, so a cycle that reads `snapshot()` and calls no `await` sees one consistent state.
 */
import type { Node, Pod } from '../api/types.js';
import { isTerminal, MutableNodeInfo, type Snapshot } from './framework.js';

/** `namespace/name` of a pod, the cache's key. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

interface PodState {
  /** The object added to `node`'s info (needed to subtract exactly it later). */
  pod: Pod;
  node: string;
  /** Placed by `assumePod`, not yet seen bound by the informer. */
  assumed: boolean;
  /** For an assumed pod whose binding finished: when (clock ms) to stop trusting it. */
  deadline?: number;
}

export class SchedulerCache {
  private readonly infos = new Map<string, MutableNodeInfo>();
  /** Names of nodes the informer knows; an info without one only holds pods (a deleted node's). */
  private readonly known = new Set<string>();
  private readonly pods = new Map<string, PodState>();
  private readonly assumedKeys = new Set<string>();
  private nodeList?: MutableNodeInfo[];

  /** @param assumeTtlMs how long after `finishBinding` an unconfirmed assumption is kept. */
  constructor(private readonly assumeTtlMs = 30_000) {}

  /**
   * The node infos of every known node, in a stable order (insertion). Live objects: valid until
   * the next call that changes the cache; plugins treat them as read-only.
   */
  snapshot(): Snapshot {
    this.nodeList ??= [...this.infos.values()].filter((i) => this.known.has(i.name));
    return { nodes: this.nodeList };
  }

  /** The info of one node (known or only holding pods), for tests and logs. */
  nodeInfo(name: string): MutableNodeInfo | undefined {
    return this.infos.get(name);
  }

  /** Adds or replaces a node (informer add/update). */
  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.infos.get(name);
    if (info) info.setNode(node);
    else this.infos.set(name, new MutableNodeInfo(name, node));
    if (!this.known.has(name)) {
      this.known.add(name);
      this.nodeList = undefined;
    }
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  /**
   * Removes a node. Pods still on it keep their info (out of the snapshot) until they go too,
   * so that their deletes find what to subtract, as kube-scheduler keeps such "ghost" nodes.
   */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    if (!this.known.delete(name)) return;
    this.nodeList = undefined;
    const info = this.infos.get(name);
    if (info && info.pods.length === 0) this.infos.delete(name);
  }

  /**
   * Records that the scheduler chose `node` for `pod` and is binding it: the pod counts there
   * from now on. Does nothing if the cache already has the pod placed.
   */
  assumePod(pod: Pod, node: string): void {
    const key = podKey(pod);
    if (this.pods.has(key)) return;
    this.place(key, pod, node, true);
    this.assumedKeys.add(key);
  }

  /** The binding of an assumed pod was written: start its TTL (clock ms `now`). */
  finishBinding(key: string, now: number): void {
    const state = this.pods.get(key);
    if (state?.assumed) state.deadline = now + this.assumeTtlMs;
  }

  /** The binding of an assumed pod failed: take it off its node. No-op once it is confirmed. */
  forgetPod(key: string): void {
    const state = this.pods.get(key);
    if (state?.assumed) this.drop(key, state);
  }

  /** Whether `key` is assumed (chosen and binding, not yet confirmed), optionally as this uid. */
  isAssumed(key: string, uid?: string): boolean {
    const state = this.pods.get(key);
    return !!state?.assumed && (uid === undefined || state.pod.metadata?.uid === uid);
  }

  /** Number of assumed pods (for tests and logs). */
  get assumedCount(): number {
    return this.assumedKeys.size;
  }

  /**
   * Informer add: a pod with `spec.nodeName` (and not terminal) is counted on that node; one
   * the scheduler assumed is thereby confirmed. Pending and terminal pods are ignored.
   */
  addPod(pod: Pod): void {
    this.updatePod(pod);
  }

  /** Informer update: re-counts the pod from its new state (confirming an assumption). */
  updatePod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.pods.get(key);
    const node = pod.spec?.nodeName;
    if (!node || isTerminal(pod)) {
      // Still pending (an assumed pod's binding not seen yet) keeps the assumption.
      if (state && !(state.assumed && !node && !isTerminal(pod) && state.pod.metadata?.uid === pod.metadata?.uid)) this.drop(key, state);
      return;
    }
    if (state) this.drop(key, state);
    this.place(key, pod, node, false);
  }

  /** Informer delete: the pod's resources are freed (assumed or not). */
  removePod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.pods.get(key);
    if (state) this.drop(key, state);
  }

  /** Drops assumptions whose binding finished more than the TTL before `now` (clock ms). */
  cleanupExpired(now: number): void {
    for (const key of this.assumedKeys) {
      const state = this.pods.get(key);
      if (state?.deadline !== undefined && now > state.deadline) this.drop(key, state);
    }
  }

  private place(key: string, pod: Pod, node: string, assumed: boolean): void {
    let info = this.infos.get(node);
    if (!info) {
      // A pod on a node the cache has not seen (yet): keep its info out of the snapshot.
      info = new MutableNodeInfo(node, { metadata: { name: node } });
      this.infos.set(node, info);
    }
    info.addPod(pod);
    this.pods.set(key, { pod, node, assumed });
  }

  private drop(key: string, state: PodState): void {
    this.pods.delete(key);
    this.assumedKeys.delete(key);
    const info = this.infos.get(state.node);
    if (!info) return;
    info.removePod(state.pod);
    if (info.pods.length === 0 && !this.known.has(state.node)) this.infos.delete(state.node);
  }
}
