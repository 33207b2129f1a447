/**
 * The PersistentVolume controller's decisions (Kubernetes' `pkg/controller/volume/persistentvolume`),
 * as pure planners over the claim, the volumes and the classes it sees: which volume a claim
 * binds to (the smallest matching Available one: same class and volume mode, every requested
 * access mode, enough capacity, matching selector), when a claim waits (WaitForFirstConsumer),
 * when it asks an external provisioner, and what becomes of a volume whose claim is gone
 * (Released, then kept for Retain or handed back for Delete). The controller carries the plans
 * out through the API.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { fromLabelSelector, matches } from '../../api/labels.js';
import { compareQuantity } from '../../api/quantity.js';
import { SELECTED_NODE_ANNOTATION } from '../../scheduler/volumebinding.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export { SELECTED_NODE_ANNOTATION };

export const WAIT_FOR_FIRST_CONSUMER_MESSAGE = 'waiting for first consumer to be created before binding';
export const NO_VOLUMES_NO_CLASS_MESSAGE = 'no persistent volumes available for this claim and no storage class is set';

export type Event = { type: 'Normal' | 'Warning'; reason: string; message: string };

/** What to do about one claim. */
export type ClaimPlan =
  | { action: 'none'; event?: Event }
  /** Bind the claim and `volume` to each other (either side may already be half done). */
  | { action: 'bind'; volume: string }
  /** Ask `provisioner` for a volume: annotate the claim, say so in an event. */
  | { action: 'provision'; provisioner: string; event: Event }
  /** The claim's volume is gone: phase Lost. */
  | { action: 'lost'; event: Event };

/** What to do about one volume. */
export type VolumePlan =
  | { action: 'none' }
  | { action: 'phase'; phase: 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string; event?: Event };

const classOfClaim = (c: PersistentVolumeClaim): string => c.spec?.storageClassName ?? '';
const classOfVolume = (v: PersistentVolume): string => v.spec?.storageClassName ?? '';

/** Whether the volume's claimRef names this claim (by namespace and name, and uid if set). */
export function claimRefMatches(v: PersistentVolume, c: PersistentVolumeClaim): boolean {
  const ref = v.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== c.metadata?.name || (ref.namespace ?? '') !== (c.metadata?.namespace ?? '')) return false;
  return !ref.uid || ref.uid === c.metadata?.uid;
}

/**
 * Whether `v` could serve `c` on its own merits (class, mode, access modes, capacity, selector),
 * ignoring who it is bound to.
 */
export function volumeFits(v: PersistentVolume, c: PersistentVolumeClaim): boolean {
  if (v.metadata?.deletionTimestamp) return false;
  if (classOfVolume(v) !== classOfClaim(c)) return false;
  if ((v.spec?.volumeMode ?? 'Filesystem') !== (c.spec?.volumeMode ?? 'Filesystem')) return false;
  const modes = v.spec?.accessModes ?? [];
  if (!(c.spec?.accessModes ?? []).every((m) => modes.includes(m))) return false;
  const request = c.spec?.resources?.requests?.storage;
  const capacity = v.spec?.capacity?.storage;
  if (!request || !capacity || compareQuantity(capacity, request) < 0) return false;
  if (c.spec?.selector) {
    const sel = fromLabelSelector(c.spec.selector);
    if (!sel.ok || !matches(sel.selector, v.metadata?.labels ?? {})) return false;
  }
  return true;
}

/**
 * The volume a claim should bind to: one already pre-bound to it (claimRef naming it), else
 * the smallest Available unclaimed volume that fits; undefined when none.
 */
export function findBestMatch(c: PersistentVolumeClaim, volumes: readonly PersistentVolume[]): PersistentVolume | undefined {
  const preBound = volumes.find((v) => claimRefMatches(v, c) && !v.metadata?.deletionTimestamp);
  if (preBound) return preBound;
  let best: PersistentVolume | undefined;
  for (const v of volumes) {
    if (v.spec?.claimRef) continue;
    const phase = v.status?.phase ?? 'Pending';
    if (phase !== 'Available' && phase !== 'Pending') continue;
    if (!volumeFits(v, c)) continue;
    if (!best || compareQuantity(v.spec?.capacity?.storage ?? '0', best.spec?.capacity?.storage ?? '0') < 0) best = v;
  }
  return best;
}

/** Kubernetes' `IsDelayBindingMode`: the claim's class waits for a consumer. */
const delayBinding = (sc: StorageClass | undefined): boolean => sc?.volumeBindingMode === 'WaitForFirstConsumer';

/** The plan for one claim (Kubernetes' `syncClaim`). */
export function planClaim(c: PersistentVolumeClaim, volumes: readonly PersistentVolume[], classes: readonly StorageClass[]): ClaimPlan {
  if (c.metadata?.deletionTimestamp) return { action: 'none' };
  const volumeName = c.spec?.volumeName;
  if (volumeName) {
    const v = volumes.find((x) => x.metadata?.name === volumeName);
    if (!v) {
      if (c.status?.phase === 'Bound' || c.status?.phase === 'Lost') {
        return { action: 'lost', event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' } };
      }
      return { action: 'none' }; // pre-bound to a volume that does not exist yet: wait for it
    }
    const ref = v.spec?.claimRef;
    if (ref && !claimRefMatches(v, c)) {
      return { action: 'lost', event: { type: 'Warning', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' } };
    }
    const done = ref?.uid === c.metadata?.uid && c.status?.phase === 'Bound' && v.status?.phase === 'Bound'
      && c.metadata?.annotations?.[ANN_BIND_COMPLETED] === 'yes';
    return done ? { action: 'none' } : { action: 'bind', volume: volumeName };
  }
  const className = classOfClaim(c);
  const sc = className ? classes.find((x) => x.metadata?.name === className) : undefined;
  const match = findBestMatch(c, volumes);
  if (match && claimRefMatches(match, c)) return { action: 'bind', volume: match.metadata?.name ?? '' };
  if (delayBinding(sc) && !c.metadata?.annotations?.[SELECTED_NODE_ANNOTATION]) {
    return { action: 'none', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: WAIT_FOR_FIRST_CONSUMER_MESSAGE } };
  }
  if (match) return { action: 'bind', volume: match.metadata?.name ?? '' };
  if (!className) return { action: 'none', event: { type: 'Normal', reason: 'FailedBinding', message: NO_VOLUMES_NO_CLASS_MESSAGE } };
  if (!sc) {
    return { action: 'none', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io ${JSON.stringify(className)} not found` } };
  }
  const provisioner = sc.provisioner ?? '';
  if (provisioner === 'kubernetes.io/no-provisioner') {
    return { action: 'none', event: { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' } };
  }
  return {
    action: 'provision', provisioner,
    event: {
      type: 'Normal', reason: 'ExternalProvisioning',
      message: `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    },
  };
}

/**
 * The plan for one volume (Kubernetes' `syncVolume`): Available without a claim, Bound with a
 * live claim bound to it, Released once its claim is gone; a Released volume with policy
 * Delete that no provisioner made cannot be deleted here (Failed, as Kubernetes reports when
 * no deleter plugin matches). Deleting provisioned volumes is their provisioner's work.
 */
export function planVolume(v: PersistentVolume, claim: PersistentVolumeClaim | undefined): VolumePlan {
  if (v.metadata?.deletionTimestamp) return { action: 'none' };
  const phase = v.status?.phase ?? 'Pending';
  const ref = v.spec?.claimRef;
  const want = (p: 'Available' | 'Bound' | 'Released' | 'Failed', extra: Omit<Extract<VolumePlan, { action: 'phase' }>, 'action' | 'phase'> = {}): VolumePlan =>
    (phase === p ? { action: 'none' } : { action: 'phase', phase: p, ...extra });
  if (!ref) return want('Available');
  if (!ref.uid) {
    // Pre-bound by name only: Available until the claim side binds it.
    return phase === 'Pending' ? { action: 'phase', phase: 'Available' } : { action: 'none' };
  }
  const claimGone = !claim || claim.metadata?.uid !== ref.uid;
  if (!claimGone) {
    if (claim.spec?.volumeName === v.metadata?.name) return want('Bound');
    return phase === 'Pending' ? { action: 'phase', phase: 'Available' } : { action: 'none' };
  }
  if (phase === 'Failed') return { action: 'none' };
  if (phase !== 'Released') return { action: 'phase', phase: 'Released' };
  const policy = v.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Delete' && !v.metadata?.annotations?.[ANN_PROVISIONED_BY]) {
    const message = `error getting deleter volume plugin for volume ${JSON.stringify(v.metadata?.name ?? '')}: no deletable volume plugin matched`;
    return { action: 'phase', phase: 'Failed', message, event: { type: 'Warning', reason: 'VolumeFailedDelete', message } };
  }
  return { action: 'none' };
}
