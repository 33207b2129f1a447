/**
 * Table rows of the identity and storage kinds, as kubectl prints them (Kubernetes'
 * `pkg/printers/internalversion`): ServiceAccount, PersistentVolume, PersistentVolumeClaim,
 * StorageClass, Role/ClusterRole and RoleBinding/ClusterRoleBinding. Shared by the API
 * server's Table printer and the CLI's tables; pure functions of (object, now).
 */
import type { PersistentVolume, PersistentVolumeClaim, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from './types.js';
import { age } from './podstatus.js';
import { isDefaultClass } from './storagevalidation.js';

export interface RowColumn {
  /** The server-side column name (`Access Modes`); kubectl shows it upper-cased. */
  name: string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
}

export interface KindRows {
  columns: RowColumn[];
  row(obj: KubeObject, now: Date): string[];
}

const MODE_SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
/** `RWO,ROX`: access modes as kubectl abbreviates them, in Kubernetes' fixed order. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const order = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
  return order.filter((m) => (modes ?? []).includes(m)).map((m) => MODE_SHORT[m]).join(',');
}

const c = (name: string, wide = false): RowColumn => ({ name, wide });
const subjectsOf = (b: RoleBinding, kind: string) => (b.subjects ?? []).filter((s) => s.kind === kind);

const bindingRows: KindRows = {
  columns: [c('Name'), c('Role'), c('Age'), c('Users', true), c('Groups', true), c('ServiceAccounts', true)],
  row: (obj, now) => {
    const b = obj as RoleBinding;
    return [obj.metadata?.name ?? '', `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(obj.metadata?.creationTimestamp, now),
      subjectsOf(b, 'User').map((s) => s.name).join(', '), subjectsOf(b, 'Group').map((s) => s.name).join(', '),
      subjectsOf(b, 'ServiceAccount').map((s) => `${s.namespace ?? ''}/${s.name}`).join(', ')];
  },
};

const roleRows: KindRows = {
  columns: [c('Name'), c('Created At')],
  row: (obj) => [obj.metadata?.name ?? '', obj.metadata?.creationTimestamp ?? ''],
};

/** By `group/resource` (`/persistentvolumes`, `storage.k8s.io/storageclasses`). */
export const IDENTITY_STORAGE_ROWS: Record<string, KindRows> = {
  '/serviceaccounts': {
    columns: [c('Name'), c('Secrets'), c('Age')],
    row: (obj, now) => [obj.metadata?.name ?? '', String((obj as ServiceAccount).secrets?.length ?? 0), age(obj.metadata?.creationTimestamp, now)],
  },
  '/persistentvolumes': {
    columns: [c('Name'), c('Capacity'), c('Access Modes'), c('Reclaim Policy'), c('Status'), c('Claim'), c('StorageClass'),
      c('VolumeAttributesClass'), c('Reason'), c('Age'), c('VolumeMode', true)],
    row: (obj, now) => {
      const pv = obj as PersistentVolume;
      const ref = pv.spec?.claimRef;
      return [obj.metadata?.name ?? '', pv.spec?.capacity?.storage ?? '', accessModesString(pv.spec?.accessModes),
        pv.spec?.persistentVolumeReclaimPolicy ?? '', pv.status?.phase ?? '', ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '',
        pv.spec?.storageClassName ?? '', pv.spec?.volumeAttributesClassName || '<unset>', pv.status?.reason ?? '',
        age(obj.metadata?.creationTimestamp, now), pv.spec?.volumeMode ?? '<unset>'];
    },
  },
  '/persistentvolumeclaims': {
    columns: [c('Name'), c('Status'), c('Volume'), c('Capacity'), c('Access Modes'), c('StorageClass'), c('VolumeAttributesClass'),
      c('Age'), c('VolumeMode', true)],
    row: (obj, now) => {
      const pvc = obj as PersistentVolumeClaim;
      const bound = pvc.status?.phase === 'Bound';
      return [obj.metadata?.name ?? '', obj.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? '', pvc.spec?.volumeName ?? '',
        bound ? pvc.status?.capacity?.storage ?? '' : '', bound ? accessModesString(pvc.status?.accessModes) : '',
        pvc.spec?.storageClassName ?? '', pvc.spec?.volumeAttributesClassName || '<unset>', age(obj.metadata?.creationTimestamp, now),
        pvc.spec?.volumeMode ?? '<unset>'];
    },
  },
  'storage.k8s.io/storageclasses': {
    columns: [c('Name'), c('Provisioner'), c('ReclaimPolicy'), c('VolumeBindingMode'), c('AllowVolumeExpansion'), c('Age')],
    row: (obj, now) => {
      const sc = obj as StorageClass;
      return [`${obj.metadata?.name ?? ''}${isDefaultClass(sc) ? ' (default)' : ''}`, sc.provisioner ?? '', sc.reclaimPolicy ?? 'Delete',
        sc.volumeBindingMode ?? 'Immediate', String(sc.allowVolumeExpansion ?? false), age(obj.metadata?.creationTimestamp, now)];
    },
  },
  'rbac.authorization.k8s.io/roles': roleRows,
  'rbac.authorization.k8s.io/clusterroles': roleRows,
  'rbac.authorization.k8s.io/rolebindings': bindingRows,
  'rbac.authorization.k8s.io/clusterrolebindings': bindingRows,
};
