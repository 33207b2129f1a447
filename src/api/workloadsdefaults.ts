/**
 * Defaulting of the apps/v1 DaemonSet, StatefulSet and ControllerRevision and the core/v1
 * ReplicationController (`pkg/apis/apps/v1/defaults.go`, `pkg/apis/core/v1/defaults.go`). Same
 * contract as `defaults.ts`: in place, only unset fields, idempotent.
 */
import type { DaemonSet, DaemonSetSpec, StatefulSet, StatefulSetSpec } from 'kubernetes-types/apps/v1.js';
import type { ReplicationController, ReplicationControllerSpec } from 'kubernetes-types/core/v1.js';
import { applyPodTemplateDefaults, isObject } from './defaults.js';
import { applyPersistentVolumeClaimDefaults } from './storagevalidation.js';

/** The annotation DaemonSets still carry with their template generation (apps/v1beta2 compatibility). */
export const DEPRECATED_TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

/**
 * DaemonSet defaults (`SetDefaults_DaemonSet`): update strategy RollingUpdate with
 * `maxUnavailable` 1 and `maxSurge` 0, `revisionHistoryLimit` 10, pod defaults.
 */
export function applyDaemonSetDefaults(ds: DaemonSet): void {
  const writable = ds as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as DaemonSetSpec;
  if (!isObject(spec.updateStrategy)) spec.updateStrategy = {};
  const strategy = spec.updateStrategy;
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    ru.maxUnavailable ??= 1;
    ru.maxSurge ??= 0;
    strategy.rollingUpdate = ru;
  }
  spec.revisionHistoryLimit ??= 10;
  if (!isObject(spec.template)) spec.template = {};
  applyPodTemplateDefaults(spec.template);
}

/**
 * StatefulSet defaults (`SetDefaults_StatefulSet`): `podManagementPolicy` OrderedReady, update
 * strategy RollingUpdate with `partition` 0, `replicas` 1, `revisionHistoryLimit` 10,
 * `persistentVolumeClaimRetentionPolicy` Retain/Retain, pod defaults.
 */
export function applyStatefulSetDefaults(ss: StatefulSet): void {
  const writable = ss as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as StatefulSetSpec;
  spec.podManagementPolicy ||= 'OrderedReady';
  if (!isObject(spec.updateStrategy)) spec.updateStrategy = {};
  const strategy = spec.updateStrategy;
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    ru.partition ??= 0;
    strategy.rollingUpdate = ru;
  }
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (!isObject(spec.persistentVolumeClaimRetentionPolicy)) spec.persistentVolumeClaimRetentionPolicy = {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
  // `SetObjectDefaults_StatefulSet`: each claim template gets the claim defaults (volumeMode, phase Pending).
  if (Array.isArray(spec.volumeClaimTemplates)) for (const t of spec.volumeClaimTemplates) if (isObject(t)) applyPersistentVolumeClaimDefaults(t);
  if (!isObject(spec.template)) spec.template = { spec: { containers: [] } };
  applyPodTemplateDefaults(spec.template);
}

/**
 * ReplicationController defaults (`SetDefaults_ReplicationController`): the selector and the
 * object's labels default to the template's labels; `replicas` 1; pod defaults.
 */
export function applyReplicationControllerDefaults(rc: ReplicationController): void {
  const writable = rc as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as ReplicationControllerSpec;
  const labels = isObject(spec.template) ? (spec.template as NonNullable<ReplicationControllerSpec['template']>).metadata?.labels : undefined;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (Object.keys(rc.metadata?.labels ?? {}).length === 0) (rc.metadata ??= {}).labels = { ...labels };
  }
  spec.replicas ??= 1;
  if (isObject(spec.template)) applyPodTemplateDefaults(spec.template as NonNullable<ReplicationControllerSpec['template']>);
}
