/**
 * The garbage collector (Kubernetes' `pkg/controller/garbagecollector`): deletes objects whose
 * owners are all gone, and carries out the two deletion modes that finalizers ask of it.
 *
 * - Background (the default): once every owner an object lists in `ownerReferences` is gone
 *   (absent from the cache and confirmed absent by a live GET, or present with another uid),
 *   the object is deleted, with a uid precondition. An object with some owners gone and some
 *   alive loses the references to the gone ones.
 * - Foreground (`foregroundDeletion` finalizer on the owner): dependents that block their
 *   owner's deletion (`blockOwnerDeletion`) are deleted first; the finalizer is removed once
 *   none is left, and the API server then removes the owner.
 * - Orphan (`orphan` finalizer): the owner's references are removed from its dependents, then
 *   the finalizer.
 *
 * The finalizers are put there by the API server when a DELETE asks for
 * `propagationPolicy: Foreground` or `Orphan`; if the server does not do that, deletions simply
 * behave as Background.
 *
 * Flow: informer handlers only enqueue keys (`<resource>|<namespace>/<name>`); a worker
 * re-reads the object, classifies its owners and carries out the pure {@link planGarbage} or
 * {@link planDeletingOwner} decision.
 */
import { ApiError } from '../api/errors.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import {
  CONFIGMAPS, CONTROLLERREVISIONS, CRONJOBS, DAEMONSETS, DEPLOYMENTS, JOBS, PODS, PVCS, REPLICASETS, REPLICATIONCONTROLLERS,
  resourcePath, SECRETS, SERVICES, STATEFULSETS, type ResourceRef,
} from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

/** A kind the collector watches, as both possible owner and possible dependent. */
export interface GCResource {
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/**
 * The kinds the collector watches by default: every workload kind and what the workload
 * controllers own (pods, ReplicaSets, ControllerRevisions, Jobs, PersistentVolumeClaims of
 * StatefulSets), and the kinds users most often give owners (ConfigMaps, Secrets, Services).
 * An object of a kind not listed here is never collected, and an owner of such a kind counts as
 * alive (`unknown`). Kubernetes watches every deletable resource from discovery; events and
 * leases, which churn and never carry owners here, are left out on purpose.
 */
export const DEFAULT_GC_RESOURCES: readonly GCResource[] = [
  { ref: PODS, apiVersion: 'v1', kind: 'Pod', namespaced: true },
  { ref: REPLICASETS, apiVersion: 'apps/v1', kind: 'ReplicaSet', namespaced: true },
  { ref: DEPLOYMENTS, apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
  { ref: DAEMONSETS, apiVersion: 'apps/v1', kind: 'DaemonSet', namespaced: true },
  // StatefulSets own their pods and (retention policy Delete) their claims; pods own scaled-away claims.
  { ref: STATEFULSETS, apiVersion: 'apps/v1', kind: 'StatefulSet', namespaced: true },
  { ref: CONTROLLERREVISIONS, apiVersion: 'apps/v1', kind: 'ControllerRevision', namespaced: true },
  { ref: JOBS, apiVersion: 'batch/v1', kind: 'Job', namespaced: true },
  { ref: CRONJOBS, apiVersion: 'batch/v1', kind: 'CronJob', namespaced: true },
  { ref: REPLICATIONCONTROLLERS, apiVersion: 'v1', kind: 'ReplicationController', namespaced: true },
  { ref: PVCS, apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespaced: true },
  { ref: CONFIGMAPS, apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
  { ref: SECRETS, apiVersion: 'v1', kind: 'Secret', namespaced: true },
  { ref: SERVICES, apiVersion: 'v1', kind: 'Service', namespaced: true },
];

/**
 * What one owner reference points at:
 * - `solid`: the owner exists (same uid);
 * - `dangling`: the owner is gone (or replaced by another object with the same name);
 * - `waiting`: the owner exists, is being deleted in the foreground, and this reference blocks it;
 * - `unknown`: a kind the collector does not watch, so it cannot tell (kept, like solid).
 */
export type OwnerState = 'solid' | 'dangling' | 'waiting' | 'unknown';

export type GarbagePlan =
  | { action: 'none' }
  | { action: 'removeOwnerReferences'; uids: string[] }
  | { action: 'delete'; propagationPolicy: 'Background' | 'Foreground' | 'Orphan' };

/**
 * Decides what to do with an object given the state of each of its owner references (in the
 * same order) and whether it has dependents itself (Kubernetes' `attemptToDeleteItem`):
 * - some owner solid: keep it, but drop references to dangling owners and to owners waiting on
 *   it (otherwise those would wait forever);
 * - an owner waits for it and it has dependents of its own: delete it in the foreground too;
 * - otherwise (every owner gone or waiting): delete it, Orphan or Foreground if its own
 *   finalizers ask for that, else Background.
 */
export function planGarbage(obj: KubeObject, states: readonly OwnerState[], hasDependents: boolean): GarbagePlan {
  const refs = obj.metadata?.ownerReferences ?? [];
  if (refs.length === 0) return { action: 'none' };
  const solid = states.some((s) => s === 'solid' || s === 'unknown');
  const dangling = refs.filter((_, i) => states[i] === 'dangling');
  const waiting = refs.filter((_, i) => states[i] === 'waiting');
  if (solid) {
    if (dangling.length === 0 && waiting.length === 0) return { action: 'none' };
    return { action: 'removeOwnerReferences', uids: [...dangling, ...waiting].map((r) => r.uid) };
  }
  if (waiting.length > 0 && hasDependents) return { action: 'delete', propagationPolicy: 'Foreground' };
  const finalizers = obj.metadata?.finalizers ?? [];
  if (finalizers.includes(FINALIZER_ORPHAN)) return { action: 'delete', propagationPolicy: 'Orphan' };
  if (finalizers.includes(FINALIZER_FOREGROUND)) return { action: 'delete', propagationPolicy: 'Foreground' };
  return { action: 'delete', propagationPolicy: 'Background' };
}

/** What to do for an owner being deleted with the `orphan` or `foregroundDeletion` finalizer. */
export interface DeletingOwnerPlan<T extends KubeObject = KubeObject> {
  /** Dependents to strip of their reference to the owner (orphan). */
  orphan: T[];
  /** Dependents to delete before the owner may go (foreground), not yet being deleted. */
  deleteFirst: T[];
  /** Finalizer to remove from the owner now. */
  removeFinalizer?: string;
}

/**
 * Plans the finalizer work of an owner being deleted, given its dependents (objects with an
 * owner reference to its uid): Orphan comes first (strip references, then drop `orphan`);
 * Foreground waits until no dependent that blocks owner deletion is left (those not yet being
 * deleted are deleted), then drops `foregroundDeletion`.
 */
export function planDeletingOwner<T extends KubeObject>(owner: KubeObject, dependents: readonly T[]): DeletingOwnerPlan<T> {
  const uid = owner.metadata?.uid;
  const finalizers = owner.metadata?.finalizers ?? [];
  if (!owner.metadata?.deletionTimestamp) return { orphan: [], deleteFirst: [] };
  if (finalizers.includes(FINALIZER_ORPHAN)) {
    return { orphan: [...dependents], deleteFirst: [], removeFinalizer: FINALIZER_ORPHAN };
  }
  if (finalizers.includes(FINALIZER_FOREGROUND)) {
    const blocking = dependents.filter((d) => d.metadata?.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion));
    if (blocking.length === 0) return { orphan: [], deleteFirst: [], removeFinalizer: FINALIZER_FOREGROUND };
    return { orphan: [], deleteFirst: blocking.filter((d) => !d.metadata?.deletionTimestamp) };
  }
  return { orphan: [], deleteFirst: [] };
}

export interface GarbageCollectorOptions extends ControllerContext {
  resources?: readonly GCResource[];
}

const hasGcFinalizer = (o: KubeObject): boolean =>
  !!o.metadata?.deletionTimestamp && (o.metadata.finalizers ?? []).some((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND);
const refsJson = (o: KubeObject): string => JSON.stringify(o.metadata?.ownerReferences ?? []);

export class GarbageCollector extends Controller {
  private readonly resources: readonly GCResource[];
  private readonly caches: Informer<KubeObject>[];
  /** Owner uids confirmed gone (uids are never reused), bounded. */
  private readonly absent = new Set<string>();

  /** Workers default to 5; conflicts retry without a log line. */
  constructor(opts: GarbageCollectorOptions) {
    super('garbage-collector', opts, { workers: 5, baseDelayMs: 100, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.resources = opts.resources ?? DEFAULT_GC_RESOURCES;
    this.caches = this.resources.map((r, i) => {
      const inf = this.informer<KubeObject>(r.ref);
      inf.addHandlers({
        onAdd: (o) => {
          if (o.metadata?.ownerReferences?.length || hasGcFinalizer(o)) this.queue.add(this.key(i, o));
        },
        onUpdate: (old, o) => {
          if (refsJson(old) !== refsJson(o)) {
            this.queue.add(this.key(i, o));
            this.enqueueDeletingOwners(old);
          } else if (hasGcFinalizer(o) && JSON.stringify(old.metadata?.finalizers) !== JSON.stringify(o.metadata?.finalizers)) {
            this.queue.add(this.key(i, o));
          } else if (hasGcFinalizer(o) && !old.metadata?.deletionTimestamp) this.queue.add(this.key(i, o));
        },
        onDelete: (o) => {
          for (const dep of this.dependentsOf(o.metadata?.uid)) this.queue.add(dep.key);
          this.enqueueDeletingOwners(o);
        },
      });
      return inf;
    });
  }

  private key(i: number, o: KubeObject): string {
    const r = this.resources[i];
    const name = r.namespaced ? `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}` : o.metadata?.name ?? '';
    return `${i}|${name}`;
  }

  /** Cached objects (of every watched kind) with an owner reference to `uid`. */
  private dependentsOf(uid: string | undefined): { key: string; obj: KubeObject; index: number }[] {
    if (!uid) return [];
    const out: { key: string; obj: KubeObject; index: number }[] = [];
    this.caches.forEach((c, i) => {
      for (const o of c.list()) {
        if (o.metadata?.ownerReferences?.some((r) => r.uid === uid)) out.push({ key: this.key(i, o), obj: o, index: i });
      }
    });
    return out;
  }

  /** Owners of `o` that are being deleted with a finalizer the collector works on. */
  private enqueueDeletingOwners(o: KubeObject): void {
    for (const ref of o.metadata?.ownerReferences ?? []) {
      const i = this.resourceIndex(ref);
      if (i < 0) continue;
      const owner = this.cached(i, o.metadata?.namespace, ref.name);
      if (owner && owner.metadata?.uid === ref.uid && hasGcFinalizer(owner)) this.queue.add(this.key(i, owner));
    }
  }

  private resourceIndex(ref: Pick<OwnerReference, 'apiVersion' | 'kind'>): number {
    return this.resources.findIndex((r) => r.apiVersion === ref.apiVersion && r.kind === ref.kind);
  }

  private cached(i: number, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.caches[i].get(this.resources[i].namespaced ? `${namespace ?? ''}/${name}` : name);
  }

  private itemRef(i: number, namespace: string | undefined): ResourceRef {
    const r = this.resources[i];
    return r.namespaced ? { ...r.ref, namespace } : r.ref;
  }

  // ---- the worker ---------------------------------------------------------------------------

  protected async sync(key: string): Promise<void> {
    const bar = key.indexOf('|');
    const i = Number(key.slice(0, bar));
    const rest = key.slice(bar + 1);
    const slash = this.resources[i].namespaced ? rest.indexOf('/') : -1;
    const namespace = slash >= 0 ? rest.slice(0, slash) : undefined;
    const name = slash >= 0 ? rest.slice(slash + 1) : rest;
    const obj = this.cached(i, namespace, name);
    if (!obj) return;
    if (obj.metadata?.deletionTimestamp) {
      if (hasGcFinalizer(obj)) await this.syncDeletingOwner(i, obj);
      return;
    }
    const refs = obj.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return;
    // Cheap path first: every owner is in the cache, alive and not waiting on us.
    const cachedStates = refs.map((r) => this.cachedOwnerState(namespace, r));
    if (cachedStates.every((s) => s === 'solid' || s === 'unknown')) return;

    // Decide on the latest object, never on a cached copy that may be stale.
    const latest = await this.getLive(this.itemRef(i, namespace), name);
    if (!latest || latest.metadata?.uid !== obj.metadata?.uid || latest.metadata?.deletionTimestamp) return;
    const latestRefs = latest.metadata?.ownerReferences ?? [];
    const states: OwnerState[] = [];
    for (const r of latestRefs) states.push(await this.ownerState(namespace, r));
    const plan = planGarbage(latest, states, this.dependentsOf(latest.metadata?.uid).length > 0);
    const ref = this.itemRef(i, namespace);
    if (plan.action === 'removeOwnerReferences') {
      const keep = latestRefs.filter((r) => !plan.uids.includes(r.uid));
      await this.client.patch(ref, name, { metadata: { ownerReferences: keep.length ? keep : null, resourceVersion: latest.metadata?.resourceVersion } });
      this.log(`garbage-collector: ${key}: removed owner references to ${plan.uids.join(', ')}`);
    } else if (plan.action === 'delete') {
      await this.deleteObject(ref, name, latest.metadata?.uid, plan.propagationPolicy);
      this.log(`garbage-collector: deleted ${this.resources[i].kind} ${rest} (owners gone; propagation ${plan.propagationPolicy})`);
    }
  }

  /** The owner's state as far as the cache knows: 'dangling' here only means "look closer". */
  private cachedOwnerState(namespace: string | undefined, ref: OwnerReference): OwnerState {
    const i = this.resourceIndex(ref);
    if (i < 0) return 'unknown';
    const owner = this.cached(i, namespace, ref.name);
    if (!owner || owner.metadata?.uid !== ref.uid) return 'dangling';
    return this.waitingOn(owner, ref) ? 'waiting' : 'solid';
  }

  private waitingOn(owner: KubeObject, ref: OwnerReference): boolean {
    return !!owner.metadata?.deletionTimestamp && !!ref.blockOwnerDeletion && (owner.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND);
  }

  /** The owner's state, confirmed with a live GET when the cache does not have it. */
  private async ownerState(namespace: string | undefined, ref: OwnerReference): Promise<OwnerState> {
    const cached = this.cachedOwnerState(namespace, ref);
    if (cached !== 'dangling') return cached;
    if (this.absent.has(ref.uid)) return 'dangling';
    const i = this.resourceIndex(ref);
    const live = await this.getLive(this.itemRef(i, namespace), ref.name);
    if (!live || live.metadata?.uid !== ref.uid) {
      this.absent.add(ref.uid);
      if (this.absent.size > 10_000) this.absent.delete(this.absent.values().next().value as string);
      return 'dangling';
    }
    return this.waitingOn(live, ref) ? 'waiting' : 'solid';
  }

  private async getLive(ref: ResourceRef, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.get<KubeObject>(ref, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  /** DELETE with a uid precondition (never delete a newer object of the same name). */
  private async deleteObject(ref: ResourceRef, name: string, uid: string | undefined, propagationPolicy: string): Promise<void> {
    try {
      await this.client.request('DELETE', resourcePath(ref, name), {
        kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy, ...(uid ? { preconditions: { uid } } : {}),
      });
    } catch (e) {
      // Gone already, or replaced (uid precondition failed): nothing of ours left to delete.
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return;
      throw e;
    }
  }

  /** Orphans or deletes the dependents of an owner being deleted, then drops the finalizer. */
  private async syncDeletingOwner(i: number, owner: KubeObject): Promise<void> {
    const deps = this.dependentsOf(owner.metadata?.uid);
    const plan = planDeletingOwner(owner, deps.map((d) => d.obj));
    const uid = owner.metadata?.uid;
    for (const d of deps.filter((x) => plan.orphan.includes(x.obj))) {
      const keep = (d.obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
      try {
        await this.client.patch(this.itemRef(d.index, d.obj.metadata?.namespace), d.obj.metadata?.name ?? '', {
          metadata: { ownerReferences: keep.length ? keep : null, resourceVersion: d.obj.metadata?.resourceVersion },
        });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    for (const d of deps.filter((x) => plan.deleteFirst.includes(x.obj))) this.queue.add(d.key);
    if (plan.removeFinalizer) {
      const finalizers = (owner.metadata?.finalizers ?? []).filter((f) => f !== plan.removeFinalizer);
      try {
        await this.client.patch(this.itemRef(i, owner.metadata?.namespace), owner.metadata?.name ?? '', {
          metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: owner.metadata?.resourceVersion },
        });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }
}
