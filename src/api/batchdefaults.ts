/**
 * Defaulting of the `batch/v1` kinds, Job and CronJob (`pkg/apis/batch/v1/defaults.go`) and
 * the Job create strategy's generated selector (`pkg/registry/batch/job/strategy.go`). Same
 * contract as `defaults.ts`: in place, only unset fields, idempotent.
 */
import type { CronJob, Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import { applyPodTemplateDefaults, isObject } from './defaults.js';

/** The label (and selector key) a Job's pods carry with its uid, unless `manualSelector`. */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
/** The legacy unprefixed form Kubernetes still adds beside it. */
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
/** Annotation and label with an Indexed Job pod's completion index. */
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** Finalizer that keeps a Job's pod until the Job controller has counted it. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Annotation on a Job created by a CronJob: when it was scheduled (RFC 3339). */
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

const MAX_INT32 = 2 ** 31 - 1;

/** Defaults of a Job's spec (shared by Job objects; CronJob templates only get pod defaults). */
function applyJobSpecDefaults(spec: JobSpec): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  for (const rule of Array.isArray(spec.podFailurePolicy?.rules) ? spec.podFailurePolicy.rules : []) {
    for (const pattern of Array.isArray(rule?.onPodConditions) ? rule.onPodConditions : []) if (isObject(pattern)) pattern.status ||= 'True';
  }
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  if (!isObject(spec.template)) spec.template = {};
  applyPodTemplateDefaults(spec.template);
}

/**
 * Job defaults (`SetDefaults_Job`): `completions` and `parallelism` 1 when both are unset,
 * else `parallelism` 1; `backoffLimit` 6 (2147483647 with `backoffLimitPerIndex`);
 * `completionMode` NonIndexed; `suspend` false; pod-condition patterns' `status` True;
 * `podReplacementPolicy` TerminatingOrFailed (Failed with a `podFailurePolicy`);
 * `manualSelector` false; the template's labels as the Job's when it has none; pod defaults.
 */
export function applyJobDefaults(job: Job): void {
  const writable = job as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as JobSpec;
  applyJobSpecDefaults(spec);
  const labels = spec.template.metadata?.labels;
  if (labels && Object.keys(job.metadata?.labels ?? {}).length === 0) (job.metadata ??= {}).labels = { ...labels };
}

/**
 * The Job create strategy's selector generation (`generateSelector`): unless `manualSelector`
 * is true, the selector is `batch.kubernetes.io/controller-uid=<uid>` and the template gets
 * that label, its legacy `controller-uid` twin, and `batch.kubernetes.io/job-name` /
 * `job-name`. A selector the user set is replaced (validation then compares it); needs the uid.
 */
export function generateJobSelector(job: Job): void {
  const spec = job.spec;
  if (!isObject(spec) || spec.manualSelector === true) return;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  const template = (spec.template ??= {});
  const meta = (template.metadata ??= {});
  meta.labels = {
    ...(meta.labels ?? {}),
    [JOB_CONTROLLER_UID_LABEL]: meta.labels?.[JOB_CONTROLLER_UID_LABEL] ?? uid,
    [LEGACY_CONTROLLER_UID_LABEL]: meta.labels?.[LEGACY_CONTROLLER_UID_LABEL] ?? uid,
    [JOB_NAME_LABEL]: meta.labels?.[JOB_NAME_LABEL] ?? name,
    [LEGACY_JOB_NAME_LABEL]: meta.labels?.[LEGACY_JOB_NAME_LABEL] ?? name,
  };
  if (!spec.selector) spec.selector = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
}

/**
 * CronJob defaults (`SetDefaults_CronJob`): `concurrencyPolicy` Allow, `suspend` false,
 * `successfulJobsHistoryLimit` 3, `failedJobsHistoryLimit` 1, pod defaults for the job
 * template's pod template (the Job's own defaults come when a Job is created from it).
 */
export function applyCronJobDefaults(cj: CronJob): void {
  const writable = cj as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as NonNullable<CronJob['spec']>;
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (!isObject(spec.jobTemplate)) spec.jobTemplate = {};
  const jobSpec = ((spec.jobTemplate as { spec?: unknown }).spec ??= {});
  if (!isObject(jobSpec)) return;
  const js = jobSpec as unknown as JobSpec;
  if (!isObject(js.template)) js.template = {};
  applyPodTemplateDefaults(js.template);
}
