/**
 * The StatefulSet controller's planner (Kubernetes' `stateful_set_control.go`:
 * `updateStatefulSet`, `newVersionedStatefulSetPod`, `computeReplicaStatus`), without I/O:
 * stable pods `<set>-<ordinal>` for ordinals `ordinals.start … start+replicas−1`, created in
 * order and each waited for (OrderedReady) or all at once (Parallel), condemned ones deleted
 * from the highest ordinal down, and template changes rolled out from the highest ordinal
 * down to `partition` (RollingUpdate) or left to the user (OnDelete).
 */
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { KubeObject, OwnerReference, PodSpec, PodTemplateSpec } from '../api/types.js';
import { CONTROLLER_REVISION_HASH } from './history.js';
import { isPodAvailable, isPodReady, newControllerRef } from './podutil.js';
import type { PodObject } from './types.js';

export const STATEFULSET_POD_NAME = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX = 'apps.kubernetes.io/pod-index';

/** `<set>-<ordinal>` → ordinal, or undefined when the name is not one of the set's. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/**
 * The pod for one ordinal from `template` at `revision` (`newStatefulSetPod`): named
 * `<set>-<ordinal>`, hostname that name, subdomain the governing service, with the pod-name,
 * pod-index and revision labels, controlled by the set.
 */
export function statefulPodFor(ss: StatefulSet, template: PodTemplateSpec | undefined, ordinal: number, revision: string): PodObject {
  const t = structuredClone(template ?? {});
  const name = `${ss.metadata?.name ?? ''}-${ordinal}`;
  const spec = withClaimVolumes(ss, t.spec ?? { containers: [] }, ordinal);
  spec.hostname = name;
  if (ss.spec?.serviceName) spec.subdomain = ss.spec.serviceName;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: ss.metadata?.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [STATEFULSET_POD_NAME]: name, [POD_INDEX]: String(ordinal), [CONTROLLER_REVISION_HASH]: revision },
      ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
      ownerReferences: [newControllerRef(ss, 'apps/v1', 'StatefulSet')],
    },
    spec,
  };
}

export interface StatefulSetPlan {
  /** Ordinals to create, with the revision whose template each gets. */
  create: { ordinal: number; revision: 'current' | 'update' }[];
  delete: PodObject[];
  status: StatefulSetStatus;
  /** Look again once a pod has been ready for minReadySeconds, if set. */
  requeueAfterMs?: number;
}

export interface StatefulSetRevisions {
  /** Revision names (`<set>-<hash>`): the one most pods run, and the one of the current template. */
  current: string;
  update: string;
}

const terminating = (p: PodObject): boolean => !!p.metadata?.deletionTimestamp;
const finished = (p: PodObject): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

/**
 * Plans one sync of `ss` over the pods it controls, given its current and update revisions.
 * `manage` false (expectations unmet): status only.
 */
export function planStatefulSet(ss: StatefulSet, pods: readonly PodObject[], rev: StatefulSetRevisions, now: Date, manage = true): StatefulSetPlan {
  const nowMs = now.getTime();
  const name = ss.metadata?.name ?? '';
  const replicas = ss.spec?.replicas ?? 1;
  const start = ss.spec?.ordinals?.start ?? 0;
  const end = start + replicas;
  const minReady = ss.spec?.minReadySeconds ?? 0;
  const parallel = ss.spec?.podManagementPolicy === 'Parallel';
  const strategy = ss.spec?.updateStrategy;
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  const byOrdinal = new Map<number, PodObject>();
  const condemned: PodObject[] = [];
  for (const p of pods) {
    const ord = ordinalOf(name, p.metadata?.name ?? '');
    if (ord === undefined) continue;
    if (ord >= start && ord < end) byOrdinal.set(ord, p);
    else condemned.push(p);
  }
  condemned.sort((a, b) => (ordinalOf(name, b.metadata?.name ?? '') ?? 0) - (ordinalOf(name, a.metadata?.name ?? '') ?? 0));
  const revisionOf = (p: PodObject) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH];
  const healthy = (p: PodObject) => !terminating(p) && p.status?.phase === 'Running' && isPodAvailable(p, minReady, nowMs);

  const create: StatefulSetPlan['create'] = [];
  const del: PodObject[] = [];
  let requeueAfterMs: number | undefined;
  let blocked = false;
  // New pods below the partition keep the current revision (RollingUpdate); all others get the update.
  const revisionFor = (ord: number): 'current' | 'update' => (strategy?.type === 'RollingUpdate' && ord < start + partition ? 'current' : 'update');
  for (let ord = start; ord < end && !blocked; ord++) {
    const p = byOrdinal.get(ord);
    if (!p) {
      create.push({ ordinal: ord, revision: revisionFor(ord) });
      if (!parallel) blocked = true;
      continue;
    }
    if (finished(p) && !terminating(p)) {
      // A failed (or, for a set, finished) pod is deleted and made again.
      del.push(p);
      if (!parallel) blocked = true;
      continue;
    }
    if (!parallel && !healthy(p)) {
      blocked = true;
      if (isPodReady(p) && minReady > 0) requeueAfterMs = minReady * 1000;
    }
  }
  // Condemned pods go from the highest ordinal down; OrderedReady waits for all others to be healthy.
  if (!blocked || parallel) {
    if (parallel) del.push(...condemned.filter((p) => !terminating(p)));
    else if (condemned.length && !condemned.some(terminating) && [...byOrdinal.values()].every(healthy)) del.push(condemned[0]);
  }
  // Rolling update: from the highest ordinal down to the partition, one at a time, once all are healthy.
  const allHealthy = byOrdinal.size === replicas && [...byOrdinal.values()].every(healthy) && condemned.length === 0;
  if (strategy?.type === 'RollingUpdate' && allHealthy && create.length === 0 && del.length === 0) {
    for (let ord = end - 1; ord >= start + partition; ord--) {
      const p = byOrdinal.get(ord);
      if (!p) break;
      if (revisionOf(p) !== rev.update && !terminating(p)) {
        del.push(p);
        break;
      }
    }
  }

  // Status.
  const live = pods.filter((p) => !terminating(p) && !finished(p));
  const inRange = [...byOrdinal.values()].filter((p) => !terminating(p) && !finished(p));
  const status: StatefulSetStatus = {
    replicas: live.length,
    readyReplicas: live.filter(isPodReady).length,
    availableReplicas: live.filter((p) => isPodAvailable(p, minReady, nowMs)).length,
    currentReplicas: inRange.filter((p) => revisionOf(p) === rev.current).length,
    updatedReplicas: inRange.filter((p) => revisionOf(p) === rev.update).length,
    currentRevision: rev.current,
    updateRevision: rev.update,
    collisionCount: ss.status?.collisionCount ?? 0,
    ...(ss.metadata?.generation ? { observedGeneration: ss.metadata.generation } : {}),
  };
  if (strategy?.type === 'RollingUpdate' && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = rev.update;
  }
  if (!status.readyReplicas) delete status.readyReplicas;
  if (!status.currentReplicas) delete status.currentReplicas;
  if (!status.updatedReplicas) delete status.updatedReplicas;
  if (!manage) return { create: [], delete: [], status, requeueAfterMs };
  return { create, delete: del, status, requeueAfterMs };
}

// ---------------------------------------------------------------------------------------------
// volumeClaimTemplates: one claim per template and ordinal (`stateful_set_utils.go`)

export type ClaimObject = PersistentVolumeClaim & KubeObject;

/** `<template>-<set>-<ordinal>` (`getPersistentVolumeClaimName`). */
export const claimName = (template: string, setName: string, ordinal: number): string => `${template}-${setName}-${ordinal}`;

/**
 * The claims the pod of `ordinal` uses, keyed by template name (`getPersistentVolumeClaims`):
 * each template's copy named {@link claimName}, in the set's namespace, labelled with the set's
 * `selector.matchLabels` over the template's own labels. With whenDeleted=Delete the set owns
 * it from the start (the pod reference comes later, see {@link claimOwnerReferences}).
 */
export function claimsFor(ss: StatefulSet, ordinal: number): Map<string, ClaimObject> {
  const out = new Map<string, ClaimObject>();
  const setName = ss.metadata?.name ?? '';
  for (const t of ss.spec?.volumeClaimTemplates ?? []) {
    const template = t.metadata?.name ?? '';
    const { status: _status, ...claim } = structuredClone(t);
    const labels = { ...(claim.metadata?.labels ?? {}), ...(ss.spec?.selector?.matchLabels ?? {}) };
    const meta = { ...claim.metadata, name: claimName(template, setName, ordinal), namespace: ss.metadata?.namespace, labels };
    delete meta.resourceVersion;
    delete meta.uid;
    delete meta.creationTimestamp;
    const owners = claimOwnerReferences([], ss, undefined, false);
    if (owners.length) meta.ownerReferences = owners;
    out.set(template, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...claim, metadata: meta });
  }
  return out;
}

/**
 * The pod spec with one `persistentVolumeClaim` volume per template (`updateStorage`): the
 * claims first, in template order, replacing template volumes of the same name.
 */
export function withClaimVolumes(ss: StatefulSet, spec: PodSpec, ordinal: number): PodSpec {
  const claims = claimsFor(ss, ordinal);
  if (claims.size === 0) return spec;
  const volumes = [...claims].map(([name, c]) => ({ name, persistentVolumeClaim: { claimName: c.metadata?.name ?? '' } }));
  return { ...spec, volumes: [...volumes, ...(spec.volumes ?? []).filter((v) => !claims.has(v.name))] };
}

const sameRef = (r: OwnerReference, o: { uid?: string; kind: string; name?: string }): boolean => r.uid === o.uid && r.kind === o.kind && r.name === o.name;

/**
 * The claim's owner references as the retention policy wants them
 * (`updateClaimOwnerRefForSetAndPod`), keeping references to anything else:
 * - Retain/Retain: neither the set nor the pod;
 * - whenDeleted=Delete: the set as controller, so deleting the set deletes the claim;
 * - whenScaled=Delete and the pod scaled away (`condemned`): the pod instead of the set (the
 *   garbage collector deletes the claim once the pod is gone); otherwise no pod reference.
 * `pod` absent (a claim being created): the set's part only.
 */
export function claimOwnerReferences(current: readonly OwnerReference[], ss: StatefulSet, pod: KubeObject | undefined, condemned: boolean): OwnerReference[] {
  const policy = ss.spec?.persistentVolumeClaimRetentionPolicy;
  const toPod = !!pod && policy?.whenScaled === 'Delete' && condemned;
  const setOwner = { uid: ss.metadata?.uid, kind: 'StatefulSet', name: ss.metadata?.name };
  const podOwner = { uid: pod?.metadata?.uid, kind: 'Pod', name: pod?.metadata?.name };
  const out = current.filter((r) => !sameRef(r, setOwner) && !(pod && sameRef(r, podOwner)));
  if (policy?.whenDeleted === 'Delete' && !toPod) out.push(current.find((r) => sameRef(r, setOwner)) ?? newControllerRef(ss as KubeObject, 'apps/v1', 'StatefulSet'));
  if (toPod) out.push(current.find((r) => sameRef(r, podOwner)) ?? { apiVersion: 'v1', kind: 'Pod', name: podOwner.name ?? '', uid: podOwner.uid ?? '' });
  return out;
}

/**
 * Why the pod `podName` may not be created yet over `claim` (`PodClaimIsStale`, and the
 * claim-being-deleted check of `createPersistentVolumeClaims`), or undefined: a claim that is
 * being deleted, or that an earlier pod of that name still owns (the garbage collector is about
 * to delete it), must go first.
 */
export function claimNotUsable(claim: ClaimObject, podName: string): string | undefined {
  const name = claim.metadata?.name ?? '';
  if (claim.metadata?.deletionTimestamp) return `pvc ${name} is being deleted`;
  if ((claim.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Pod' && r.name === podName)) return `pvc ${name} is still owned by an earlier pod ${podName}`;
  return undefined;
}

/** Whether a pod of `ordinal` is outside the set's range (being scaled away). */
export function isCondemned(ss: StatefulSet, ordinal: number): boolean {
  const start = ss.spec?.ordinals?.start ?? 0;
  return ordinal < start || ordinal >= start + (ss.spec?.replicas ?? 1);
}
