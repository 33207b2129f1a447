/**
 * `rollout status|history|undo` for DaemonSets and StatefulSets, as kubectl's
 * `DaemonSetStatusViewer`, `StatefulSetStatusViewer`, `DaemonSetHistoryViewer` and
 * `DaemonSetRollbacker` (and their StatefulSet twins) do it: status from the set's status
 * counts; history and undo from the ControllerRevisions the set owns.
 */
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { KubeObject, PodTemplateSpec } from '../../api/types.js';
import { CliError } from '../context.js';
import { templateOfRevision } from '../../controllers/history.js';
import { canonicalJson } from '../../controllers/podutil.js';
import type { RolloutProgress } from './apps.js';
import type { Client, Target } from './shared.js';

export const isRevisionedSet = (t: Target): boolean => t.def.group === 'apps' && (t.def.resource === 'daemonsets' || t.def.resource === 'statefulsets');

/** kubectl's rollout status of a DaemonSet. */
export function daemonSetRolloutStatus(ds: DaemonSet): RolloutProgress {
  const name = ds.metadata?.name ?? '';
  if (ds.spec?.updateStrategy?.type !== 'RollingUpdate') throw new CliError('rollout status is only available for RollingUpdate strategy type');
  const st = ds.status;
  if ((ds.metadata?.generation ?? 0) <= (st?.observedGeneration ?? 0)) {
    const desired = st?.desiredNumberScheduled ?? 0;
    if ((st?.updatedNumberScheduled ?? 0) < desired) {
      return { message: `Waiting for daemon set "${name}" rollout to finish: ${st?.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated...`, done: false };
    }
    if ((st?.numberAvailable ?? 0) < desired) {
      return { message: `Waiting for daemon set "${name}" rollout to finish: ${st?.numberAvailable ?? 0} of ${desired} updated pods are available...`, done: false };
    }
    return { message: `daemon set "${name}" successfully rolled out`, done: true };
  }
  return { message: 'Waiting for daemon set spec update to be observed...', done: false };
}

/** kubectl's rollout status of a StatefulSet. */
export function statefulSetRolloutStatus(ss: StatefulSet): RolloutProgress {
  const strategy = ss.spec?.updateStrategy;
  if (strategy?.type !== 'RollingUpdate') throw new CliError('rollout status is only available for RollingUpdate strategy type');
  const st = ss.status;
  if (!st?.observedGeneration || (ss.metadata?.generation ?? 0) > st.observedGeneration) {
    return { message: 'Waiting for statefulset spec update to be observed...', done: false };
  }
  const replicas = ss.spec?.replicas;
  if (replicas !== undefined && (st.readyReplicas ?? 0) < replicas) return { message: `Waiting for ${replicas - (st.readyReplicas ?? 0)} pods to be ready...`, done: false };
  if (strategy.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (replicas !== undefined && partition !== undefined && (st.updatedReplicas ?? 0) < replicas - partition) {
      return { message: `Waiting for partitioned roll out to finish: ${st.updatedReplicas ?? 0} out of ${replicas - partition} new pods have been updated...`, done: false };
    }
    return { message: `partitioned roll out complete: ${st.updatedReplicas ?? 0} new pods have been updated...`, done: true };
  }
  if (st.updateRevision !== st.currentRevision) {
    return { message: `waiting for statefulset rolling update to complete ${st.updatedReplicas ?? 0} pods at revision ${st.updateRevision ?? ''}...`, done: false };
  }
  return { message: `statefulset rolling update complete ${st.currentReplicas ?? 0} pods at revision ${st.currentRevision ?? ''}...`, done: true };
}

/** The rollout status of a DaemonSet or StatefulSet. */
export function setRolloutStatus(t: Target, obj: KubeObject): RolloutProgress {
  return t.def.resource === 'daemonsets' ? daemonSetRolloutStatus(obj as DaemonSet) : statefulSetRolloutStatus(obj as StatefulSet);
}

export interface SetRevision {
  revision: number;
  template: PodTemplateSpec;
  changeCause?: string;
}

/** The revisions of a set from the ControllerRevisions it controls, oldest first. */
export async function setRevisions(client: Client, set: KubeObject): Promise<SetRevision[]> {
  const list = await client.list<ControllerRevision & KubeObject>({ group: 'apps', version: 'v1', resource: 'controllerrevisions', namespace: set.metadata?.namespace });
  return list.items
    .filter((r) => (r.metadata?.ownerReferences ?? []).some((o) => o.controller && o.uid === set.metadata?.uid))
    .map((r) => ({ revision: r.revision ?? 0, template: templateOfRevision(r), changeCause: r.metadata?.annotations?.['kubernetes.io/change-cause'] }))
    .sort((a, b) => a.revision - b.revision);
}

/**
 * The template `rollout undo` returns a set to: revision `toRevision`, or with 0 the one before
 * the newest. Throws kubectl's errors.
 */
export function setRollbackTarget(revs: readonly SetRevision[], toRevision: number): SetRevision {
  if (toRevision > 0) {
    const r = revs.find((x) => x.revision === toRevision);
    if (!r) throw new CliError(`unable to find specified revision ${toRevision} in history`);
    return r;
  }
  if (revs.length < 2) throw new CliError('no last revision to roll back to');
  return revs[revs.length - 2];
}

/** Whether the set's template already is the revision's. */
export const sameTemplate = (a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean => canonicalJson(a ?? {}) === canonicalJson(b ?? {});
