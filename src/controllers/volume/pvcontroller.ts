/**
 * The PersistentVolume controller (Kubernetes' `persistentvolume-binder`): binds claims to
 * volumes, asks external provisioners for volumes, moves volumes through Available → Bound →
 * Released (or Failed), marks claims Lost, and lets volumes that are no longer bound go when
 * deleted (the `kubernetes.io/pv-protection` finalizer). Decisions come from the pure planners
 * in `binder.ts`; this file carries them out through the API.
 *
 * Keys: `pvc:<namespace>/<name>` and `pv:<name>`.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types.js';
import { PVCS, PVS, STORAGE_CLASSES } from '../../client/client.js';
import { Controller, type ControllerContext } from '../base.js';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_STORAGE_PROVISIONER, planClaim, planVolume, type Event,
} from './binder.js';
export { PVS, PVCS, STORAGE_CLASSES } from '../../client/client.js';

export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

export type PV = PersistentVolume & KubeObject;
export type PVC = PersistentVolumeClaim & KubeObject;
export type SC = StorageClass & KubeObject;

const claimKey = (ns: string, name: string) => `pvc:${ns}/${name}`;

/** 409 (stale cache) and 404 (gone meanwhile) mean "look again", not failure. */
const retryable = (e: unknown): boolean => e instanceof ApiError && (e.code === 409 || e.code === 404);

export class PersistentVolumeController extends Controller {
  private readonly volumes = this.informer<PV>(PVS);
  private readonly claims = this.informer<PVC>(PVCS);
  private readonly classes = this.informer<SC>(STORAGE_CLASSES);

  constructor(ctx: ControllerContext) {
    super('persistentvolume-controller', ctx, { workers: 1, quiet: (e) => e instanceof ApiError && e.code === 409 });
    const onClaim = (c: PVC) => this.enqueue(claimKey(c.metadata?.namespace ?? '', c.metadata?.name ?? ''));
    this.claims.addHandlers({
      onAdd: onClaim,
      onUpdate: (_o, c) => onClaim(c),
      onDelete: (c) => {
        // Its volume is Released now.
        if (c.spec?.volumeName) this.enqueue(`pv:${c.spec.volumeName}`);
        for (const v of this.volumes.list()) if (v.spec?.claimRef?.uid === c.metadata?.uid) this.enqueue(`pv:${v.metadata?.name ?? ''}`);
      },
    });
    const onVolume = (v: PV) => {
      this.enqueue(`pv:${v.metadata?.name ?? ''}`);
      const ref = v.spec?.claimRef;
      if (ref?.name) this.enqueue(claimKey(ref.namespace ?? '', ref.name));
      else this.enqueuePendingClaims(); // a free volume may fit a waiting claim
    };
    this.volumes.addHandlers({ onAdd: onVolume, onUpdate: (_o, v) => onVolume(v), onDelete: (v) => {
      const ref = v.spec?.claimRef;
      if (ref?.name) this.enqueue(claimKey(ref.namespace ?? '', ref.name));
    } });
    this.classes.addHandlers({ onAdd: () => this.enqueuePendingClaims() });
  }

  private enqueuePendingClaims(): void {
    for (const c of this.claims.list()) if (!c.spec?.volumeName) this.enqueue(claimKey(c.metadata?.namespace ?? '', c.metadata?.name ?? ''));
  }

  protected async sync(key: string): Promise<void> {
    try {
      if (key.startsWith('pvc:')) await this.syncClaim(key.slice(4));
      else if (key.startsWith('pv:')) await this.syncVolume(key.slice(3));
    } catch (e) {
      if (!retryable(e)) throw e;
      // The cache was stale: try again once the watch has caught up.
      this.queue.addRateLimited(key);
    }
  }

  private event(obj: KubeObject, kind: string, ev: Event | undefined): void {
    if (ev) void this.recorder.event({ ...obj, kind, apiVersion: 'v1' }, ev.type, ev.reason, ev.message);
  }

  private async syncClaim(nsName: string): Promise<void> {
    const claim = this.claims.get(nsName);
    if (!claim) return;
    const plan = planClaim(claim, this.volumes.list(), this.classes.list());
    const ns = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    switch (plan.action) {
      case 'none':
        this.event(claim, 'PersistentVolumeClaim', plan.event);
        return;
      case 'lost':
        this.event(claim, 'PersistentVolumeClaim', plan.event);
        if (claim.status?.phase !== 'Lost') await this.client.patch<PVC>({ ...PVCS, namespace: ns }, name, { status: { phase: 'Lost' } }, 'status');
        return;
      case 'provision': {
        const a = claim.metadata?.annotations ?? {};
        if (a[ANN_STORAGE_PROVISIONER] !== plan.provisioner || a[ANN_BETA_STORAGE_PROVISIONER] !== plan.provisioner) {
          await this.client.patch<PVC>({ ...PVCS, namespace: ns }, name, {
            metadata: { annotations: { [ANN_STORAGE_PROVISIONER]: plan.provisioner, [ANN_BETA_STORAGE_PROVISIONER]: plan.provisioner } },
          });
        }
        this.event(claim, 'PersistentVolumeClaim', plan.event);
        return;
      }
      case 'bind':
        await this.bind(claim, plan.volume);
    }
  }

  /** Binds both sides, volume first (as Kubernetes does), each step skipped when already done. */
  private async bind(claim: PVC, volumeName: string): Promise<void> {
    const volume = this.volumes.get(volumeName);
    if (!volume) return;
    const ns = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    const ref = volume.spec?.claimRef;
    let pv = volume;
    if (!ref || ref.uid !== claim.metadata?.uid) {
      pv = await this.client.update<PV>(PVS, {
        ...volume,
        metadata: { ...volume.metadata, annotations: { ...volume.metadata?.annotations, ...(ref ? {} : { [ANN_BOUND_BY_CONTROLLER]: 'yes' }) } },
        spec: { ...volume.spec, claimRef: {
          kind: 'PersistentVolumeClaim', namespace: ns, name, uid: claim.metadata?.uid, apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion,
        } },
      });
    }
    if (pv.status?.phase !== 'Bound') await this.client.patch<PV>(PVS, volumeName, { status: { phase: 'Bound' } }, 'status');
    let pvc = claim;
    const a = claim.metadata?.annotations ?? {};
    if (claim.spec?.volumeName !== volumeName || a[ANN_BIND_COMPLETED] !== 'yes') {
      pvc = await this.client.update<PVC>({ ...PVCS, namespace: ns }, {
        ...claim,
        metadata: { ...claim.metadata, annotations: { ...a, [ANN_BIND_COMPLETED]: 'yes', ...(claim.spec?.volumeName ? {} : { [ANN_BOUND_BY_CONTROLLER]: 'yes' }) } },
        spec: { ...claim.spec, volumeName },
      });
    }
    const status = { phase: 'Bound', capacity: { ...volume.spec?.capacity }, accessModes: [...(volume.spec?.accessModes ?? [])] };
    if (pvc.status?.phase !== 'Bound' || JSON.stringify(pvc.status.capacity) !== JSON.stringify(status.capacity)) {
      await this.client.patch<PVC>({ ...PVCS, namespace: ns }, name, { status }, 'status');
    }
  }

  private async syncVolume(name: string): Promise<void> {
    const volume = this.volumes.get(name);
    if (!volume) return;
    if (volume.metadata?.deletionTimestamp) {
      // pv-protection: a volume no claim is bound to may go.
      const finalizers = volume.metadata.finalizers ?? [];
      if (volume.status?.phase !== 'Bound' && finalizers.includes(PV_PROTECTION_FINALIZER)) {
        await this.client.patch<PV>(PVS, name, { metadata: { finalizers: finalizers.filter((f) => f !== PV_PROTECTION_FINALIZER), resourceVersion: volume.metadata.resourceVersion } });
      }
      return;
    }
    const ref = volume.spec?.claimRef;
    const claim = ref?.name ? this.claims.get(`${ref.namespace ?? ''}/${ref.name}`) : undefined;
    const plan = planVolume(volume, claim);
    if (plan.action === 'none') return;
    this.event(volume, 'PersistentVolume', plan.event);
    await this.client.patch<PV>(PVS, name, { status: { phase: plan.phase, message: plan.message ?? null } }, 'status');
  }
}
