/**
 * The workload kinds beyond Pods, ReplicaSets and Deployments: batch/v1 Job and CronJob (and,
 * as they land, the apps/v1 DaemonSet, StatefulSet and ControllerRevision and the v1
 * ReplicationController). Spread into `RESOURCES` by `src/api/registry.ts`.
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import { applyCronJobDefaults, applyJobDefaults, generateJobSelector } from '../batchdefaults.js';
import { validateCronJob, validateJob } from '../batchvalidation.js';

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
];
