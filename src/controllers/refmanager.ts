/**
 * Adopting and releasing owned objects (Kubernetes' `ControllerRefManager`): a controller's
 * planner decides which orphans its selector matches (adopt) and which owned objects stopped
 * matching (release); this carries the decision out, the same way for every owner kind.
 *
 * Before the first adoption the owner is re-read from the server, not the cache, so an owner
 * deleted meanwhile adopts nothing (`claim` then returns false and the caller stops its sync;
 * the owner's deletion event comes). Each patch carries the object's resourceVersion, so an
 * object changed since the cache saw it fails with 409 and the sync is retried from fresh state.
 * Objects already gone (404) are skipped.
 */
import { ApiError } from '../api/errors.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import type { ApiClient, ResourceRef } from '../client/client.js';
import { newControllerRef } from './podutil.js';

export interface ClaimPlan<T extends KubeObject> {
  /** Orphans to take ownership of. */
  adopt: readonly T[];
  /** Owned objects whose labels no longer match, to let go of. */
  release: readonly T[];
}

export interface OwnerKind {
  /** Where the owner lives, for the uncached re-read (namespace set for namespaced owners). */
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
}

export class ControllerRefManager {
  /**
   * @param owner the controlling object, as cached.
   * @param ownerKind its REST coordinates, apiVersion and kind (for the controller reference).
   * @param children the collection of the owned objects (in the owner's namespace).
   */
  constructor(
    private readonly client: ApiClient,
    private readonly owner: KubeObject,
    private readonly ownerKind: OwnerKind,
    private readonly children: ResourceRef,
  ) {}

  /**
   * Adopts and releases as planned. Returns false, having changed nothing, when there was
   * something to adopt but the owner is gone or being deleted; throws on API errors other than
   * 404 (a 409 means the object changed: the caller retries).
   */
  async claim<T extends KubeObject>(plan: ClaimPlan<T>): Promise<boolean> {
    const uid = this.owner.metadata?.uid;
    if (plan.adopt.length > 0 && !(await this.ownerStillStands())) return false;
    const controller = newControllerRef(this.owner, this.ownerKind.apiVersion, this.ownerKind.kind);
    for (const obj of plan.adopt) await this.setOwners(obj, [...(obj.metadata?.ownerReferences ?? []), controller]);
    for (const obj of plan.release) {
      const rest = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
      await this.setOwners(obj, rest.length ? rest : null);
    }
    return true;
  }

  /** The owner, read from the server, is the same object and not being deleted. */
  private async ownerStillStands(): Promise<boolean> {
    try {
      const fresh = await this.client.get<KubeObject>(this.ownerKind.ref, this.owner.metadata?.name ?? '');
      return fresh.metadata?.uid === this.owner.metadata?.uid && !fresh.metadata?.deletionTimestamp;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return false;
      throw e;
    }
  }

  private async setOwners(obj: KubeObject, refs: OwnerReference[] | null): Promise<void> {
    try {
      await this.client.patch(this.children, obj.metadata?.name ?? '', { metadata: { ownerReferences: refs, resourceVersion: obj.metadata?.resourceVersion } });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
