/**
 * The ReplicaSet controller (Kubernetes' `pkg/controller/replicaset`): keeps the number of
 * active pods a ReplicaSet owns equal to `spec.replicas`, adopts orphans its selector matches,
 * releases pods whose labels stopped matching, and reports counts in the ReplicaSet's status.
 *
 * Flow (STYLE principles 1, 4, 5): informer handlers only enqueue `namespace/name` keys (pods map
 * to their ReplicaSet through the controller reference, orphans to every ReplicaSet that
 * selects them); a worker re-reads the caches, computes a plan with the pure
 * {@link planReplicaSet}, and carries it out. Creates and deletes are recorded as expectations
 * and the ReplicaSet is not managed again until the watch has shown them (or 5 minutes passed),
 * so a cache that lags behind never makes it create or delete twice.
 */
import { ApiError } from '../api/errors.js';
import { fromLabelSelector, matches, type Selector } from '../api/labels.js';
import type { KubeObject, Pod } from '../api/types.js';
import { PODS, type ResourceRef } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';
import { traceOwnerSaw, traceReplicaCreated } from '../trace/controllers.js';
import { Expectations, EXPECTATIONS_TTL_MS } from './expectations.js';
import { ControllerRefManager } from './refmanager.js';
import {
  canonicalJson, controllerRef, isPodActive, isPodAvailable, isPodReady, keyOf, newControllerRef, slowStartBatch,
  sortPodsForDeletion, splitKey,
} from './podutil.js';
import { REPLICASETS, inNamespace, type PodObject, type ReplicaSet, type ReplicaSetObject, type ReplicaSetStatus } from './types.js';

/** Kubernetes' `burstReplicas`: the most pods one sync creates or deletes. */
export const BURST_REPLICAS = 500;

export interface PlanReplicaSetOptions {
  /**
   * Whether to create/delete pods (false while expectations are unmet or the ReplicaSet is
   * being deleted: then the plan only claims pods and computes status). Default true.
   */
  manage?: boolean;
  /**
   * Pods of the ReplicaSets that share this one's controller (a Deployment's old and new
   * ReplicaSets), used to prefer deleting pods doubled up on a node. Default: the pods given.
   */
  relatedPods?: readonly Pod[];
  /** At most this many creates or deletes (default {@link BURST_REPLICAS}). */
  burst?: number;
}

/** What one sync of a ReplicaSet should do. */
export interface ReplicaSetPlan<P extends Pod = Pod> {
  /** Set when the selector cannot be used; nothing else is planned then. */
  error?: string;
  /** Orphans the selector matches, to take ownership of (counted as owned below). */
  adopt: P[];
  /** Owned pods whose labels no longer match, to let go of. */
  release: P[];
  /** Active pods the ReplicaSet owns after adopting and releasing. */
  owned: P[];
  /** How many pods to create from the template. */
  create: number;
  /** Which owned pods to delete, in the order Kubernetes prefers. */
  delete: P[];
  /** Counts computed from `owned` (conditions are carried over from the current status). */
  status: ReplicaSetStatus;
}

export const replicasOf = (rs: ReplicaSet): number => rs.spec?.replicas ?? 1;

/** The ReplicaSet's selector, parsed; an error message when it cannot be parsed. */
export function replicaSetSelector(rs: ReplicaSet): { ok: true; selector: Selector } | { ok: false; error: string } {
  return fromLabelSelector(rs.spec?.selector);
}

/**
 * Plans one sync of `rs` given every pod of its namespace, at `now` (Kubernetes'
 * `syncReplicaSet` + `claimPods` + `manageReplicas` + `calculateStatus`, without I/O):
 * - inactive pods (finished, or with a deletionTimestamp) are ignored;
 * - pods controlled by `rs` whose labels stopped matching are released (unless `rs` is being
 *   deleted), orphans that match are adopted (unless either is being deleted), pods controlled
 *   by another owner are left alone;
 * - too few owned pods: create the difference; too many: delete the surplus, first the ones
 *   {@link sortPodsForDeletion} puts first (ranked by related pods on the same node);
 * - status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for
 *   `minReadySeconds`), observedGeneration.
 */
export function planReplicaSet<P extends Pod>(rs: ReplicaSet, pods: readonly P[], now: Date, opts: PlanReplicaSetOptions = {}): ReplicaSetPlan<P> {
  const empty: ReplicaSetPlan<P> = { adopt: [], release: [], owned: [], create: 0, delete: [], status: { ...rs.status, replicas: rs.status?.replicas ?? 0 } };
  const sel = replicaSetSelector(rs);
  if (!sel.ok) return { ...empty, error: `invalid selector: ${sel.error}` };
  const uid = rs.metadata?.uid;
  const namespace = rs.metadata?.namespace;
  const deleting = !!rs.metadata?.deletionTimestamp;
  const adopt: P[] = [];
  const release: P[] = [];
  const owned: P[] = [];
  for (const pod of pods) {
    if (!isPodActive(pod) || pod.metadata?.namespace !== namespace) continue;
    const ref = controllerRef(pod);
    const selected = matches(sel.selector, pod.metadata?.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (selected) owned.push(pod);
      else if (!deleting) release.push(pod);
      else owned.push(pod);
    } else if (selected && !deleting) {
      adopt.push(pod);
      owned.push(pod);
    }
  }

  const burst = opts.burst ?? BURST_REPLICAS;
  let create = 0;
  let del: P[] = [];
  if (opts.manage !== false && !deleting) {
    const diff = owned.length - replicasOf(rs);
    if (diff < 0) create = Math.min(-diff, burst);
    else if (diff > 0) {
      const count = Math.min(diff, burst);
      const onNode = new Map<string, number>();
      for (const p of opts.relatedPods ?? owned) {
        if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
      }
      del = sortPodsForDeletion(owned, (p) => onNode.get(p.spec?.nodeName ?? '') ?? 0, now.getTime()).slice(0, count);
    }
  }
  return { adopt, release, owned, create, delete: del, status: computeReplicaSetStatus(rs, owned, now) };
}

/** The counts of a ReplicaSet's status from the active pods it owns (conditions carried over). */
export function computeReplicaSetStatus(rs: ReplicaSet, owned: readonly Pod[], now: Date): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const fully = owned.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata?.labels?.[k] === v)).length;
  const ready = owned.filter(isPodReady).length;
  const available = owned.filter((p) => isPodAvailable(p, minReady, now.getTime())).length;
  // Zero counts are left out, as Kubernetes' JSON (omitempty) does; `replicas` always shows.
  const status: ReplicaSetStatus = { replicas: owned.length };
  if (fully) status.fullyLabeledReplicas = fully;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (rs.metadata?.generation) status.observedGeneration = rs.metadata.generation;
  if (rs.status?.conditions?.length) status.conditions = rs.status.conditions;
  return status;
}

/** Whether two statuses differ in anything the controller writes. */
export function replicaSetStatusChanged(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  return canonicalJson(a ?? {}) !== canonicalJson(b) || (a?.replicas ?? 0) !== b.replicas;
}

/**
 * What the controller manages: ReplicaSets, or — through the same code, as Kubernetes'
 * ReplicationManager does with its adapters — ReplicationControllers. `asReplicaSet` reads an
 * object of the kind as a ReplicaSet; `withStatus` turns it back into the kind's own object
 * with a new status, for the status write.
 */
export interface ReplicatedKind {
  controllerName: string;
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  asReplicaSet(obj: KubeObject): ReplicaSetObject;
  withStatus(rs: ReplicaSetObject, status: ReplicaSetStatus): KubeObject;
}

/** ReplicaSets themselves: no conversion. */
export const REPLICASET_KIND: ReplicatedKind = {
  controllerName: 'replicaset-controller', ref: REPLICASETS, apiVersion: 'apps/v1', kind: 'ReplicaSet',
  asReplicaSet: (obj) => obj as ReplicaSetObject,
  withStatus: (rs, status) => ({ ...rs, status } as ReplicaSetObject),
};

/** The pod a ReplicaSet creates: its template, named `<rs>-xxxxx`, controlled by the ReplicaSet (or the kind's object). */
export function podFromTemplate(rs: ReplicaSet, kind: Pick<ReplicatedKind, 'apiVersion' | 'kind'> = REPLICASET_KIND): PodObject {
  const t = structuredClone(rs.spec?.template ?? {});
  const meta = t.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata?.name ?? ''}-`,
      namespace: rs.metadata?.namespace,
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
      ownerReferences: [newControllerRef(rs, kind.apiVersion, kind.kind)],
    },
    spec: t.spec ?? { containers: [] },
  };
}

export interface ReplicaSetControllerOptions extends ControllerContext {
  burstReplicas?: number;
  expectationsTtlMs?: number;
}

/** A read-only view of an informer whose objects are read as ReplicaSets. */
interface ReplicaSetView {
  get(key: string): ReplicaSetObject | undefined;
  list(): ReplicaSetObject[];
}

export class ReplicaSetController extends Controller {
  /** What this controller waits to see, by ReplicaSet key (exposed for tests). */
  readonly expectations: Expectations;
  private readonly rsInformer: ReplicaSetView;
  private readonly kind: ReplicatedKind;
  private readonly podInformer: Informer<PodObject>;
  private readonly burst: number;

  /** Workers default to Kubernetes' `--concurrent-replicaset-syncs` (5). */
  constructor(opts: ReplicaSetControllerOptions, kind: ReplicatedKind = REPLICASET_KIND) {
    super(kind.controllerName, opts, { workers: 5 });
    this.kind = kind;
    this.expectations = new Expectations(this.clock, opts.expectationsTtlMs ?? EXPECTATIONS_TTL_MS);
    this.burst = opts.burstReplicas ?? BURST_REPLICAS;
    const objects = this.informer<KubeObject>(kind.ref);
    this.rsInformer = {
      get: (key) => {
        const o = objects.get(key);
        return o ? kind.asReplicaSet(o) : undefined;
      },
      list: () => objects.list().map((o) => kind.asReplicaSet(o)),
    };
    this.podInformer = this.informer<PodObject>(PODS);
    objects.addHandlers(this.enqueueHandlers((rs) => this.expectations.delete(keyOf(rs))));
    this.podInformer.addHandlers({
      onAdd: (p) => this.addPod(p),
      onUpdate: (old, p) => this.updatePod(old, p),
      onDelete: (p) => this.deletePod(p),
    });
  }

  /** The object events are recorded against (of the managed kind). */
  private eventRef(rs: KubeObject): KubeObject {
    return { kind: this.kind.kind, apiVersion: this.kind.apiVersion, metadata: rs.metadata };
  }

  // ---- event handlers: only work out which keys to enqueue ----------------------------------

  /** The cached ReplicaSet a controller reference points to, if it is still that object. */
  private resolve(namespace: string | undefined, ref: ReturnType<typeof controllerRef>): ReplicaSetObject | undefined {
    if (!ref || ref.kind !== this.kind.kind || ref.apiVersion.split('/')[0] !== this.kind.apiVersion.split('/')[0]) return undefined;
    const rs = this.rsInformer.get(`${namespace}/${ref.name}`);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets of the pod's namespace whose selector matches it (candidates to adopt it). */
  private selecting(pod: Pod): ReplicaSetObject[] {
    return this.rsInformer.list().filter((rs) => {
      if (rs.metadata?.namespace !== pod.metadata?.namespace) return false;
      const sel = replicaSetSelector(rs);
      return sel.ok && matches(sel.selector, pod.metadata?.labels);
    });
  }

  private addPod(pod: PodObject): void {
    traceOwnerSaw(this.tracer, pod, 'replicaset-controller', 'ReplicaSet');
    if (pod.metadata?.deletionTimestamp) {
      // Seen for the first time already being deleted (e.g. after a restart): a deletion.
      this.deletePod(pod);
      return;
    }
    const ref = controllerRef(pod);
    if (ref) {
      const rs = this.resolve(pod.metadata?.namespace, ref);
      if (!rs) return;
      this.expectations.creationObserved(keyOf(rs));
      this.queue.add(keyOf(rs));
      return;
    }
    for (const rs of this.selecting(pod)) this.queue.add(keyOf(rs));
  }

  private updatePod(old: PodObject, cur: PodObject): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = canonicalJson(old.metadata?.labels) !== canonicalJson(cur.metadata?.labels);
    if (cur.metadata?.deletionTimestamp) {
      // A graceful delete shows first as an update; the ReplicaSet may replace the pod now.
      this.deletePod(cur);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const oldRef = controllerRef(old);
    const curRef = controllerRef(cur);
    const refChanged = oldRef?.uid !== curRef?.uid;
    if (refChanged && oldRef) {
      const rs = this.resolve(old.metadata?.namespace, oldRef);
      if (rs) this.queue.add(keyOf(rs));
    }
    if (curRef) {
      const rs = this.resolve(cur.metadata?.namespace, curRef);
      if (!rs) return;
      this.queue.add(keyOf(rs));
      // Once ready, the pod becomes available minReadySeconds later: look again then.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.queue.addAfter(keyOf(rs), minReady * 1000 + 100);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.selecting(cur)) this.queue.add(keyOf(rs));
  }

  private deletePod(pod: PodObject): void {
    const rs = this.resolve(pod.metadata?.namespace, controllerRef(pod));
    if (!rs) return;
    this.expectations.deletionObserved(keyOf(rs), keyOf(pod));
    this.queue.add(keyOf(rs));
  }

  // ---- the worker ---------------------------------------------------------------------------

  /** Syncs one ReplicaSet by key. Idempotent; a thrown error requeues the key with back-off. */
  protected async sync(key: string): Promise<void> {
    const rs = this.rsInformer.get(key);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const now = this.clock();
    const { namespace } = splitKey(key);
    const pods = this.podInformer.list().filter((p) => p.metadata?.namespace === namespace);
    const plan = planReplicaSet(rs, pods, now, {
      manage: this.expectations.satisfied(key),
      relatedPods: this.relatedPods(rs, pods),
      burst: this.burst,
    });
    if (plan.error) {
      await this.recorder.event(this.eventRef(rs), 'Warning', 'InvalidSelector', plan.error);
      return;
    }
    if (!(await this.claim(rs, plan))) return;
    let manageError: unknown;
    if (plan.create > 0) manageError = await this.createPods(key, rs, plan.create);
    else if (plan.delete.length > 0) manageError = await this.deletePods(key, rs, plan.delete);
    const status = withReplicaFailure(plan.status, manageError, plan.create > 0 ? 'FailedCreate' : 'FailedDelete', now);
    const updated = await this.writeStatus(rs, status);
    if (manageError) throw manageError;
    const replicas = replicasOf(updated);
    const minReady = updated.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.readyReplicas ?? 0) === replicas && (status.availableReplicas ?? 0) !== replicas) {
      this.queue.addAfter(key, minReady * 1000);
    }
  }

  /** Pods of every ReplicaSet with the same controller as `rs` (for the doubled-up rank). */
  private relatedPods(rs: ReplicaSetObject, pods: readonly PodObject[]): PodObject[] | undefined {
    const owner = controllerRef(rs);
    if (!owner) return undefined;
    const siblings = new Set(this.rsInformer.list()
      .filter((o) => o.metadata?.namespace === rs.metadata?.namespace && controllerRef(o)?.uid === owner.uid)
      .map((o) => o.metadata?.uid));
    return pods.filter((p) => siblings.has(controllerRef(p)?.uid));
  }

  /** Adopts and releases as planned; false when the ReplicaSet is gone (see {@link ControllerRefManager}). */
  private claim(rs: ReplicaSetObject, plan: ReplicaSetPlan<PodObject>): Promise<boolean> {
    const owner = { ref: inNamespace(this.kind.ref, rs.metadata?.namespace), apiVersion: this.kind.apiVersion, kind: this.kind.kind };
    return new ControllerRefManager(this.client, rs, owner, inNamespace(PODS, rs.metadata?.namespace)).claim(plan);
  }

  /** Creates `count` pods in slow-start batches; returns the first failure, if any. */
  private async createPods(key: string, rs: ReplicaSetObject, count: number): Promise<unknown> {
    this.expectations.expectCreations(key, count);
    const ref = inNamespace(PODS, rs.metadata?.namespace);
    const { successes, error } = await slowStartBatch(count, 1, async () => {
      let created: PodObject;
      const decided = this.clock();
      try {
        created = await this.client.create<PodObject>(ref, podFromTemplate(rs, this.kind));
      } catch (e) {
        void this.recorder.event(this.eventRef(rs), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        throw e;
      }
      void this.recorder.event(this.eventRef(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
      traceReplicaCreated(this.tracer, created, rs, count, decided);
    });
    // Creates that failed or were never tried will not show up in the watch.
    for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
    if (error) this.log(`replicaset-controller: ${key}: created ${successes} of ${count} pods: ${(error as Error).message}`);
    return error;
  }

  /** Deletes the planned pods in parallel; returns the first failure other than 404. */
  private async deletePods(key: string, rs: ReplicaSetObject, pods: readonly PodObject[]): Promise<unknown> {
    this.expectations.expectDeletions(key, pods.map(keyOf));
    const ref = inNamespace(PODS, rs.metadata?.namespace);
    const results = await Promise.allSettled(pods.map(async (pod) => {
      try {
        await this.client.delete(ref, pod.metadata?.name ?? '');
      } catch (e) {
        this.expectations.deletionObserved(key, keyOf(pod));
        if (e instanceof ApiError && e.code === 404) return;
        void this.recorder.event(this.eventRef(rs), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
        throw e;
      }
      void this.recorder.event(this.eventRef(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name ?? ''}`);
    }));
    return results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  }

  /**
   * Writes the status through the status subresource when it changed (or the generation is
   * not yet observed). A stale cached copy (409) is retried once on a fresh read.
   */
  private async writeStatus(rs: ReplicaSetObject, status: ReplicaSetStatus): Promise<ReplicaSetObject> {
    if (!replicaSetStatusChanged(rs.status, status)) return rs;
    const ref = inNamespace(this.kind.ref, rs.metadata?.namespace);
    try {
      return this.kind.asReplicaSet(await this.client.updateStatus<KubeObject>(ref, this.kind.withStatus(rs, status)));
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return rs;
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
    const fresh = this.kind.asReplicaSet(await this.client.get<KubeObject>(ref, rs.metadata?.name ?? ''));
    const again = { ...status, ...(fresh.metadata?.generation ? { observedGeneration: fresh.metadata.generation } : {}) };
    return this.kind.asReplicaSet(await this.client.updateStatus<KubeObject>(ref, this.kind.withStatus(fresh, again)));
  }
}

/**
 * The status with the `ReplicaFailure` condition set when creating or deleting failed, and
 * removed when it did not (Kubernetes' `calculateStatus`).
 */
export function withReplicaFailure(status: ReplicaSetStatus, error: unknown, reason: string, now: Date): ReplicaSetStatus {
  const others = (status.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  const existing = status.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (!error) {
    if (!existing) return status;
    const { conditions: _drop, ...rest } = status;
    return others.length ? { ...rest, conditions: others } : rest;
  }
  if (existing) return status;
  return {
    ...status,
    conditions: [...others, {
      type: 'ReplicaFailure', status: 'True', reason, message: (error as Error).message,
      lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    }],
  };
}
