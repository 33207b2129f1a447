/**
 * The storage kinds: PersistentVolume and PersistentVolumeClaim (v1) and StorageClass
 * (storage.k8s.io/v1). Binding and provisioning are the volume controllers' work.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import {
  applyPersistentVolumeClaimDefaults, applyPersistentVolumeDefaults, applyStorageClassDefaults,
  validatePersistentVolume, validatePersistentVolumeClaim, validateStorageClass,
} from '../storagevalidation.js';

export const STORAGE_RESOURCES: ResourceDef[] = [
  defineResource<PersistentVolume>({
    group: '', version: 'v1', resource: 'persistentvolumes', singular: 'persistentvolume', kind: 'PersistentVolume', namespaced: false,
    shortNames: ['pv'], subresources: ['status'],
    applyDefaults: applyPersistentVolumeDefaults,
    // A new volume starts Pending; only the PV controller moves it on.
    prepareForCreate: (pv) => { (pv as { status?: object }).status = { phase: 'Pending' }; },
    validate: validatePersistentVolume,
  }),
  defineResource<PersistentVolumeClaim>({
    group: '', version: 'v1', resource: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', namespaced: true,
    shortNames: ['pvc'], subresources: ['status'],
    applyDefaults: applyPersistentVolumeClaimDefaults,
    prepareForCreate: (pvc) => { (pvc as { status?: object }).status = { phase: 'Pending' }; },
    validate: validatePersistentVolumeClaim,
  }),
  defineResource<StorageClass>({
    group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', singular: 'storageclass', kind: 'StorageClass', namespaced: false,
    shortNames: ['sc'], subresources: [],
    applyDefaults: applyStorageClassDefaults,
    validate: validateStorageClass,
  }),
];
