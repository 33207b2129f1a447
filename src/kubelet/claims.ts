/**
 * How the kubelet finds the host directory behind a `persistentVolumeClaim` volume: the claim
 * (which must be bound), then its PersistentVolume (a `hostPath` or `local` volume: both are
 * directories of this host). Read through the API on every pod sync, so a claim bound later is
 * picked up by the next sync.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import { PVCS, PVS, type ApiClient } from '../client/client.js';


/** The host directory of a claim, or why the pod must wait. */
export type ClaimVolume = { ok: true; path: string; hostPathType: string } | { ok: false; reason: string };

export interface ClaimResolver {
  resolve(namespace: string, claimName: string): Promise<ClaimVolume>;
}

/** The resolver over the API (the kubelet's). */
export class ApiClaimResolver implements ClaimResolver {
  constructor(private readonly client: ApiClient) {}

  async resolve(namespace: string, claimName: string): Promise<ClaimVolume> {
    const where = `${namespace}/${claimName}`;
    const pvc = await this.get<PersistentVolumeClaim>({ ...PVCS, namespace }, claimName);
    if (!pvc) return { ok: false, reason: `error processing PVC ${where}: persistentvolumeclaim ${JSON.stringify(claimName)} not found` };
    if (pvc.metadata?.deletionTimestamp) return { ok: false, reason: `error processing PVC ${where}: PVC is being deleted` };
    const volumeName = pvc.spec?.volumeName;
    if (!volumeName || pvc.status?.phase !== 'Bound') return { ok: false, reason: `error processing PVC ${where}: PVC is not bound` };
    const pv = await this.get<PersistentVolume>(PVS, volumeName);
    if (!pv) return { ok: false, reason: `error processing PVC ${where}: persistentvolume ${JSON.stringify(volumeName)} not found` };
    if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== pvc.metadata?.uid) {
      return { ok: false, reason: `error processing PVC ${where}: volume ${volumeName} is bound to another claim` };
    }
    if (pv.spec?.hostPath?.path) return { ok: true, path: pv.spec.hostPath.path, hostPathType: pv.spec.hostPath.type ?? '' };
    if (pv.spec?.local?.path) return { ok: true, path: pv.spec.local.path, hostPathType: 'Directory' };
    return { ok: false, reason: `error processing PVC ${where}: volume ${volumeName} has no hostPath or local source` };
  }

  private async get<T extends object>(ref: typeof PVCS & { namespace?: string }, name: string): Promise<T | undefined> {
    try {
      return await this.client.get<T & { metadata?: object }>(ref, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }
}
