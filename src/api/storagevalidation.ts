/**
 * Defaults and validation of the storage kinds: PersistentVolume and PersistentVolumeClaim (v1)
 * and StorageClass (storage.k8s.io/v1), in Kubernetes' words (`pkg/apis/core/validation`,
 * `pkg/apis/storage/validation`). Volume sources minikube-lite cannot provide are refused here
 * with their field path, never stored and ignored. Pure functions.
 */
import type { PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { FieldError } from './errors.js';
import { forbidden, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { isQualifiedName, nameIsDNSSubdomain, isDNS1123Subdomain } from './names.js';
import { parseQuantity } from './quantity.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
export const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
/** The annotation marking a StorageClass as the default one. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

/** PersistentVolume sources Kubernetes knows; minikube-lite provides `hostPath` and `local`. */
const PV_SOURCES = ['awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker',
  'gcePersistentDisk', 'glusterfs', 'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte',
  'rbd', 'scaleIO', 'storageos', 'vsphereVolume'] as const;
const SUPPORTED_PV_SOURCES = new Set(['hostPath', 'local']);
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

const arr = <T>(x: readonly T[] | undefined | null): readonly T[] => (Array.isArray(x) ? x : []);

/** `true`/`"true"` in the default-class annotations (GA first, then beta). */
export function isDefaultClass(sc: StorageClass): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || (a[DEFAULT_CLASS_ANNOTATION] === undefined && a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true');
}

// ---- defaults ----

export function applyStorageClassDefaults(sc: StorageClass): void {
  const s = sc as { reclaimPolicy?: string; volumeBindingMode?: string };
  s.reclaimPolicy ||= 'Delete';
  s.volumeBindingMode ||= 'Immediate';
}

export function applyPersistentVolumeDefaults(pv: PersistentVolume): void {
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ||= 'Retain';
  spec.volumeMode ||= 'Filesystem';
  if (spec.hostPath) spec.hostPath.type ??= '';
  if (!pv.status?.phase) (pv as { status?: object }).status = { ...pv.status, phase: 'Pending' };
}

export function applyPersistentVolumeClaimDefaults(pvc: PersistentVolumeClaim): void {
  const spec = (pvc.spec ??= {});
  spec.volumeMode ||= 'Filesystem';
  if (!pvc.status?.phase) (pvc as { status?: object }).status = { ...pvc.status, phase: 'Pending' };
}

// ---- shared pieces ----

function validateAccessModes(modes: readonly string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (modes.length === 0) errs.push(required(path));
  for (const m of modes) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateStorageQuantity(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null || value === '') return [required(path)];
  const q = parseQuantity(value as string);
  if (!q.ok) return [invalidValue(path, value, q.error)];
  if (q.quantity.nanos <= 0n) return [invalidValue(path, String(value), 'must be greater than zero')];
  return [];
}

function validateClassName(name: string | undefined, path: string): FieldError[] {
  if (!name) return [];
  return isDNS1123Subdomain(name).map((msg) => invalidValue(path, name, msg));
}

function validateVolumeMode(mode: string | undefined, path: string): FieldError[] {
  if (mode === undefined || mode === 'Filesystem') return [];
  if (mode === 'Block') return [forbidden(path, 'raw block volumes are not supported by minikube-lite')];
  return [notSupported(path, mode, ['Block', 'Filesystem'])];
}

function validateNodeAffinity(spec: PersistentVolumeSpec, path: string): FieldError[] {
  const req = spec.nodeAffinity?.required;
  if (!spec.nodeAffinity) return [];
  if (!req) return [required(`${path}.required`)];
  const terms = arr(req.nodeSelectorTerms);
  if (terms.length === 0) return [requiredWithDetail(`${path}.required.nodeSelectorTerms`, 'must have at least one node selector term')];
  return [];
}

// ---- PersistentVolume ----

function validatePVSource(spec: PersistentVolumeSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const src = spec as Record<string, unknown>;
  const given = PV_SOURCES.filter((s) => src[s] !== undefined && src[s] !== null);
  if (given.length === 0) return [requiredWithDetail(path, 'must specify a volume type')];
  given.slice(1).forEach((s) => errs.push(forbidden(`${path}.${s}`, 'may not specify more than 1 volume type')));
  const kind = given[0];
  if (!SUPPORTED_PV_SOURCES.has(kind)) {
    errs.push(forbidden(`${path}.${kind}`, `${kind} volumes are not supported by minikube-lite (supported: hostPath, local)`));
    return errs;
  }
  if (kind === 'hostPath') {
    const hp = spec.hostPath ?? { path: '' };
    if (!hp.path) errs.push(required(`${path}.hostPath.path`));
    else if (hp.path.split('/').includes('..')) errs.push(invalidValue(`${path}.hostPath.path`, hp.path, "must not contain '..'"));
    if (hp.type !== undefined && !HOST_PATH_TYPES.includes(hp.type)) errs.push(notSupported(`${path}.hostPath.type`, hp.type, HOST_PATH_TYPES));
    if (arr(spec.mountOptions).length) errs.push(forbidden(`${path}.mountOptions`, 'may not specify mount options for this volume type'));
  } else {
    const local = spec.local ?? { path: '' };
    if (!local.path) errs.push(required(`${path}.local.path`));
    else if (!local.path.startsWith('/')) errs.push(invalidValue(`${path}.local.path`, local.path, 'must be an absolute path'));
    if (!spec.nodeAffinity) errs.push(requiredWithDetail(`${path}.nodeAffinity`, 'Local volume requires node affinity'));
  }
  return errs;
}

export function validatePersistentVolume(pv: PersistentVolume, old?: PersistentVolume): FieldError[] {
  const errs = validateObjectMeta(pv.metadata, false, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(pv.metadata, old.metadata));
  const spec = pv.spec ?? {};
  errs.push(...validateAccessModes(arr(spec.accessModes), 'spec.accessModes'));
  const capacity = spec.capacity ?? {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(required('spec.capacity'));
  for (const k of keys) if (k !== 'storage') errs.push(notSupported('spec.capacity', k, ['storage']));
  if (keys.includes('storage')) errs.push(...validateStorageQuantity(capacity.storage, 'spec.capacity[storage]'));
  const policy = spec.persistentVolumeReclaimPolicy ?? '';
  if (!RECLAIM_POLICIES.includes(policy)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, RECLAIM_POLICIES));
  else if (policy === 'Recycle') errs.push(forbidden('spec.persistentVolumeReclaimPolicy', 'Recycle is deprecated and not supported by minikube-lite; use Delete or Retain'));
  errs.push(...validateClassName(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  errs.push(...validateNodeAffinity(spec, 'spec.nodeAffinity'));
  errs.push(...validatePVSource(spec, 'spec'));
  if (spec.claimRef && !spec.claimRef.name) errs.push(required('spec.claimRef.name'));
  if (old) {
    const sourceOf = (s: PersistentVolumeSpec | undefined) => JSON.stringify(PV_SOURCES.map((k) => (s as Record<string, unknown> | undefined)?.[k] ?? null));
    if (sourceOf(spec) !== sourceOf(old.spec)) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    if ((spec.volumeMode ?? '') !== (old.spec?.volumeMode ?? '')) errs.push(invalidValue('spec.volumeMode', spec.volumeMode ?? '', 'field is immutable'));
    if (old.spec?.nodeAffinity && JSON.stringify(spec.nodeAffinity) !== JSON.stringify(old.spec.nodeAffinity)) {
      errs.push(forbidden('spec.nodeAffinity', 'field is immutable'));
    }
  }
  return errs;
}

// ---- PersistentVolumeClaim ----

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim, old?: PersistentVolumeClaim): FieldError[] {
  const errs = validateObjectMeta(pvc.metadata, true, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(pvc.metadata, old.metadata));
  const spec = pvc.spec ?? {};
  errs.push(...validateAccessModes(arr(spec.accessModes), 'spec.accessModes'));
  const requests = spec.resources?.requests ?? {};
  errs.push(...validateStorageQuantity(requests.storage, 'spec.resources[storage]'));
  errs.push(...validateClassName(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (spec.dataSource) errs.push(forbidden('spec.dataSource', 'volume populators and snapshots are not supported by minikube-lite'));
  if (spec.dataSourceRef) errs.push(forbidden('spec.dataSourceRef', 'volume populators and snapshots are not supported by minikube-lite'));
  if (spec.volumeAttributesClassName) errs.push(forbidden('spec.volumeAttributesClassName', 'VolumeAttributesClass is not supported by minikube-lite'));
  if (old) {
    // Only binding (volumeName, once) may change the spec of a claim; expansion is not offered.
    const o = old.spec ?? {};
    const comparable = (s: typeof spec, volumeName: string | undefined) => JSON.stringify({ ...s, volumeName });
    const volumeName = o.volumeName ? o.volumeName : spec.volumeName;
    if (comparable(spec, spec.volumeName) !== comparable(o, volumeName)) {
      errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    }
  }
  return errs;
}

// ---- StorageClass ----

export function validateStorageClass(sc: StorageClass, old?: StorageClass): FieldError[] {
  const errs = validateObjectMeta(sc.metadata, false, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(sc.metadata, old.metadata));
  if (!sc.provisioner) errs.push(required('provisioner'));
  else for (const msg of isQualifiedName(sc.provisioner.toLowerCase())) errs.push(invalidValue('provisioner', sc.provisioner, msg));
  const policy = sc.reclaimPolicy ?? '';
  if (!['Delete', 'Retain'].includes(policy)) errs.push(notSupported('reclaimPolicy', policy, ['Delete', 'Retain']));
  const mode = sc.volumeBindingMode ?? '';
  if (!BINDING_MODES.includes(mode)) errs.push(notSupported('volumeBindingMode', mode, BINDING_MODES));
  if (arr(sc.allowedTopologies).length) errs.push(forbidden('allowedTopologies', 'not supported by minikube-lite'));
  if (old) {
    if (JSON.stringify(sc.parameters ?? {}) !== JSON.stringify(old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
    if (sc.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if (sc.volumeBindingMode !== old.volumeBindingMode) errs.push(invalidValue('volumeBindingMode', sc.volumeBindingMode ?? '', 'field is immutable'));
  }
  return errs;
}
