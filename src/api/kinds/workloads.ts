/**
 * The workload kinds beyond Pods, ReplicaSets and Deployments: batch/v1 Job and CronJob (and,
 * as they land, the apps/v1 DaemonSet, StatefulSet and ControllerRevision and the v1
 * ReplicationController). Spread into `RESOURCES` by `src/api/registry.ts`, and imported by
 * nothing else (it imports `defineResource` from the registry: an import cycle otherwise).
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import { applyCronJobDefaults, applyJobDefaults, generateJobSelector } from '../batchdefaults.js';
import { validateCronJob, validateJob } from '../batchvalidation.js';
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { applyDaemonSetDefaults, applyReplicationControllerDefaults, applyStatefulSetDefaults, DEPRECATED_TEMPLATE_GENERATION } from '../workloadsdefaults.js';
import { validateControllerRevision, validateDaemonSet, validateReplicationController, validateStatefulSet } from '../workloadsvalidation.js';
import { semanticallyEqual } from '../appsvalidation.js';
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { validateResourceQuota } from '../resourcequota.js';
import { applyLimitRangeDefaults, validateLimitRange } from '../limitrange.js';


/** A DaemonSet's template generation: 1 on create, one more on each template change. */
function stampTemplateGeneration(ds: DaemonSet, old?: DaemonSet): void {
  const was = Number(old?.metadata?.annotations?.[DEPRECATED_TEMPLATE_GENERATION] ?? '0') || 0;
  const next = !old ? 1 : semanticallyEqual(ds.spec?.template, old.spec?.template) ? Math.max(was, 1) : was + 1;
  const m = (ds.metadata ??= {});
  m.annotations = { ...(m.annotations ?? {}), [DEPRECATED_TEMPLATE_GENERATION]: String(next) };
}

export const WORKLOAD_RESOURCES: ResourceDef[] = [
  defineResource<Job>({
    group: 'batch', version: 'v1', resource: 'jobs', singular: 'job', kind: 'Job', namespaced: true,
    shortNames: [], subresources: ['status'],
    applyDefaults: applyJobDefaults,
    // Only the controller writes status; the selector and the pods' labels come from the uid.
    prepareForCreate: (job) => {
      (job as { status?: object }).status = {};
      generateJobSelector(job);
    },
    validate: validateJob,
    fieldLabels: (job) => ({ 'status.successful': String(job.status?.succeeded ?? 0) }),
  }),
  defineResource<CronJob>({
    group: 'batch', version: 'v1', resource: 'cronjobs', singular: 'cronjob', kind: 'CronJob', namespaced: true,
    shortNames: ['cj'], subresources: ['status'],
    applyDefaults: applyCronJobDefaults,
    prepareForCreate: (cj) => { (cj as { status?: object }).status = {}; },
    validate: validateCronJob,
  }),
  defineResource<DaemonSet>({
    group: 'apps', version: 'v1', resource: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true,
    shortNames: ['ds'], subresources: ['status'],
    applyDefaults: applyDaemonSetDefaults,
    prepareForCreate: (ds) => {
      (ds as { status?: object }).status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
      stampTemplateGeneration(ds);
    },
    prepareForUpdate: (ds, old, _req, sub) => { if (sub === '') stampTemplateGeneration(ds, old); },
    validate: validateDaemonSet,
  }),
  defineResource<StatefulSet>({
    group: 'apps', version: 'v1', resource: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: true,
    shortNames: ['sts'], subresources: ['status', 'scale'],
    applyDefaults: applyStatefulSetDefaults,
    prepareForCreate: (ss) => { (ss as { status?: object }).status = { replicas: 0, availableReplicas: 0 }; },
    validate: validateStatefulSet,
  }),
  defineResource<ControllerRevision>({
    group: 'apps', version: 'v1', resource: 'controllerrevisions', singular: 'controllerrevision', kind: 'ControllerRevision', namespaced: true,
    shortNames: [], subresources: [],
    validate: validateControllerRevision,
  }),
  defineResource<ReplicationController>({
    group: '', version: 'v1', resource: 'replicationcontrollers', singular: 'replicationcontroller', kind: 'ReplicationController', namespaced: true,
    shortNames: ['rc'], subresources: ['status', 'scale'],
    applyDefaults: applyReplicationControllerDefaults,
    prepareForCreate: (rc) => { (rc as { status?: object }).status = { replicas: 0 }; },
    validate: validateReplicationController,
    fieldLabels: (rc) => ({ 'status.replicas': String(rc.status?.replicas ?? 0) }),
  }),
  defineResource<LimitRange>({
    group: '', version: 'v1', resource: 'limitranges', singular: 'limitrange', kind: 'LimitRange', namespaced: true,
    shortNames: ['limits'], subresources: [],
    applyDefaults: applyLimitRangeDefaults,
    validate: validateLimitRange,
  }),
  defineResource<ResourceQuota>({
    group: '', version: 'v1', resource: 'resourcequotas', singular: 'resourcequota', kind: 'ResourceQuota', namespaced: true,
    shortNames: ['quota'], subresources: ['status'],
    prepareForCreate: (rq) => { rq.status = {}; },
    validate: validateResourceQuota,
  }),
];
