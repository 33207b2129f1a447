/**
 * Storage admission plugins: `DefaultStorageClass` (a claim that names no class gets the
 * default one, the newest if several are marked) and `StorageObjectInUseProtection` (claims
 * and volumes get the finalizers that keep them while in use).
 */
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../../api/types.js';
import { isDefaultClass } from '../../api/storagevalidation.js';
import type { AdmissionPlugin } from '../admission.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** The default class among `classes`: the newest marked one (ties: by name), or undefined. */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  const marked = classes.filter(isDefaultClass);
  marked.sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '')
    || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return marked[0];
}

export const defaultStorageClassAdmission: AdmissionPlugin = {
  name: 'DefaultStorageClass',
  async admit(req, objects) {
    if (req.def.group !== '' || req.def.resource !== 'persistentvolumeclaims') return;
    const pvc = req.object as PersistentVolumeClaim;
    // An explicit "" means "no class"; only an absent class is defaulted.
    if (!pvc.spec || pvc.spec.storageClassName !== undefined) return;
    const sc = defaultClass((await objects.list('storage.k8s.io', 'storageclasses')) as StorageClass[]);
    if (sc?.metadata?.name) pvc.spec.storageClassName = sc.metadata.name;
  },
};

function addFinalizer(obj: KubeObject, finalizer: string): void {
  const m = (obj.metadata ??= {}) as { finalizers?: string[] };
  if (!(m.finalizers ?? []).includes(finalizer)) m.finalizers = [...(m.finalizers ?? []), finalizer];
}

export const storageProtectionAdmission: AdmissionPlugin = {
  name: 'StorageObjectInUseProtection',
  async admit(req) {
    if (req.def.group !== '') return;
    if (req.def.resource === 'persistentvolumeclaims') addFinalizer(req.object, PVC_PROTECTION_FINALIZER);
    else if (req.def.resource === 'persistentvolumes') addFinalizer(req.object, PV_PROTECTION_FINALIZER);
  },
};
