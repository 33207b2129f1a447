/**
 * Validation of the `batch/v1` kinds, Job and CronJob, as Kubernetes does it
 * (`pkg/apis/batch/validation/validation.go` plus the update rules of their strategies), with
 * Kubernetes' field paths and messages. Expects defaults applied first, and for a new Job the
 * generated selector (`generateJobSelector`). Pure; never throws for user mistakes.
 */
import type { CronJob, Job, JobSpec, JobTemplateSpec, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { FieldError } from './errors.js';
import { duplicate, forbidden, tooMany, invalidFormatted, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import { nonNegative, selectorUnchanged, semanticallyEqual, validatePodTemplate, validateSelector } from './appsvalidation.js';
import { JOB_CONTROLLER_UID_LABEL, JOB_NAME_LABEL, LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL } from './batchdefaults.js';
import { isValidTimeZone, parseSchedule } from './cron.js';
import { goLabelSelector } from './gofmt.js';
import { parseIndexes } from './indexset.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { isQualifiedName, maxLenError, nameIsDNSSubdomain } from './names.js';
import { validatePodSpec } from './podvalidation.js';
import { fromLabelSelector } from './labels.js';

const MAX_PARALLELISM_INDEXED = 100_000;
const MAX_COMPLETIONS_INDEXED = 100_000;
const MAX_FAILED_INDEXES = 100_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_EXIT_CODE_VALUES = 255;
const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
/** The longest CronJob name: its Jobs are named `<cronjob>-<minutes since epoch>` (11 chars). */
const CRONJOB_NAME_MAX = 52;

/** `Invalid value: <detail>` without a value (Go's `field.OmitValueType`). */
const invalidOmitted = (field: string, detail: string): FieldError => ({ field, type: 'FieldValueInvalid', message: `Invalid value: ${detail}` });
const immutable = (field: string, value: unknown): FieldError => invalidValue(field, value ?? null, 'field is immutable');

function validatePodFailurePolicyRule(spec: JobSpec, rule: PodFailurePolicyRule, path: string, containerNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const action = rule.action ?? '';
  if (!action) errs.push(requiredWithDetail(`${path}.action`, `valid values: ${JSON.stringify(ACTIONS).replace(/,/g, ' ')}`));
  else if (action === 'FailIndex') {
    if (spec.backoffLimitPerIndex === undefined) errs.push(invalidValue(`${path}.action`, action, 'requires the backoffLimitPerIndex to be set'));
  } else if (!ACTIONS.includes(action)) errs.push(notSupported(`${path}.action`, action, ACTIONS));
  const onExit = rule.onExitCodes;
  if (onExit) {
    const p = `${path}.onExitCodes`;
    if (onExit.operator !== 'In' && onExit.operator !== 'NotIn') errs.push(notSupported(`${p}.operator`, onExit.operator ?? '', ['In', 'NotIn']));
    if (onExit.containerName !== undefined && !containerNames.has(onExit.containerName)) {
      errs.push(invalidValue(`${p}.containerName`, onExit.containerName, 'must be one of the container or initContainer names in the pod template'));
    }
    const values = Array.isArray(onExit.values) ? onExit.values : [];
    if (values.length === 0) errs.push(invalidFormatted(`${p}.values`, '[]int32{}', 'at least one value is required'));
    else if (values.length > MAX_EXIT_CODE_VALUES) errs.push(tooMany(`${p}.values`, values.length, MAX_EXIT_CODE_VALUES));
    const seen = new Set<number>();
    values.forEach((v, i) => {
      if (onExit.operator === 'In' && v === 0) errs.push(invalidValue(`${p}.values[${i}]`, v, 'must not be 0 for the In operator'));
      if (seen.has(v)) errs.push(duplicate(`${p}.values[${i}]`, v));
      if (i > 0 && values[i - 1] > v) errs.push(invalidValue(`${p}.values[${i}]`, v, 'must be ordered'));
      seen.add(v);
    });
  }
  const onConds = Array.isArray(rule.onPodConditions) ? rule.onPodConditions : [];
  onConds.forEach((c, i) => {
    const p = `${path}.onPodConditions[${i}]`;
    if (!c.type) errs.push(required(`${p}.type`));
    else for (const msg of isQualifiedName(c.type)) errs.push(invalidValue(`${p}.type`, c.type, msg));
    if (!['True', 'False', 'Unknown'].includes(c.status ?? '')) errs.push(notSupported(`${p}.status`, c.status ?? '', ['True', 'False', 'Unknown']));
  });
  if (onExit && onConds.length) errs.push(invalidOmitted(path, 'specifying both OnExitCodes and OnPodConditions is not supported'));
  if (!onExit && onConds.length === 0) errs.push(invalidOmitted(path, 'specifying one of OnExitCodes and OnPodConditions is required'));
  return errs;
}

function validateSuccessPolicy(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.completionMode !== 'Indexed') errs.push(invalidValue('spec.completionMode', spec.completionMode ?? null, 'requires indexed completion mode'));
  const rules = Array.isArray(spec.successPolicy?.rules) ? spec.successPolicy.rules : [];
  if (rules.length === 0) errs.push(requiredWithDetail(`${path}.rules`, 'at least one rules must be specified when the successPolicy is specified'));
  rules.forEach((r, i) => {
    const p = `${path}.rules[${i}]`;
    if (r.succeededCount === undefined && r.succeededIndexes === undefined) {
      errs.push(requiredWithDetail(p, 'at least one of succeededCount or succeededIndexes must be specified'));
    }
    let indexCount: number | undefined;
    if (r.succeededIndexes !== undefined) {
      const parsed = parseIndexes(r.succeededIndexes, spec.completions);
      if (!parsed.ok) errs.push(invalidValue(`${p}.succeededIndexes`, r.succeededIndexes, `error parsing succeededIndexes: ${parsed.error}`));
      else indexCount = parsed.indexes.length;
    }
    if (r.succeededCount !== undefined) {
      const n = r.succeededCount;
      if (n < 0) errs.push(invalidValue(`${p}.succeededCount`, n, 'must be greater than or equal to 0'));
      if (spec.completions !== undefined && n > spec.completions) {
        errs.push(invalidValue(`${p}.succeededCount`, n, `must be less than or equal to ${spec.completions} (the number of specified completions)`));
      }
      if (indexCount !== undefined && n > indexCount) {
        errs.push(invalidValue(`${p}.succeededCount`, n, `must be less than or equal to ${indexCount} (the number of indexes in the specified succeededIndexes field)`));
      }
    }
  });
  return errs;
}

/**
 * A Job's spec without the selector (`validateJobSpec`): counts, modes, policies and the pod
 * template (restartPolicy `OnFailure` or `Never`).
 */
function validateJobSpecBody(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.parallelism, `${path}.parallelism`));
  errs.push(...nonNegative(spec.backoffLimit, `${path}.backoffLimit`));
  errs.push(...nonNegative(spec.completions, `${path}.completions`));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`));
  if (spec.backoffLimitPerIndex !== undefined) {
    errs.push(...nonNegative(spec.backoffLimitPerIndex, `${path}.backoffLimitPerIndex`));
    if (spec.completionMode !== 'Indexed') errs.push(forbidden(`${path}.backoffLimitPerIndex`, 'requires indexed completion mode'));
  }
  if (spec.maxFailedIndexes !== undefined) {
    errs.push(...nonNegative(spec.maxFailedIndexes, `${path}.maxFailedIndexes`));
    if (spec.backoffLimitPerIndex === undefined) errs.push(requiredWithDetail(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  }
  if (spec.managedBy !== undefined && spec.managedBy !== 'kubernetes.io/job-controller') {
    errs.push(notSupported(`${path}.managedBy`, spec.managedBy, ['kubernetes.io/job-controller']));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (spec.completions === undefined) errs.push(requiredWithDetail(`${path}.completions`, 'when completion mode is Indexed'));
    else if (spec.completions > MAX_COMPLETIONS_INDEXED) {
      errs.push(invalidValue(`${path}.completions`, spec.completions, `must be less than or equal to ${MAX_COMPLETIONS_INDEXED} when completion mode is Indexed`));
    }
    if (spec.parallelism !== undefined && spec.parallelism > MAX_PARALLELISM_INDEXED) {
      errs.push(invalidValue(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
    }
    if (spec.completions !== undefined && spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes > spec.completions) {
      errs.push(invalidValue(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, 'must be less than or equal to completions'));
    }
    if (spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes > MAX_FAILED_INDEXES) {
      errs.push(invalidValue(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
    }
  }
  const restart = spec.template?.spec?.restartPolicy ?? '';
  if (spec.podFailurePolicy) {
    const p = `${path}.podFailurePolicy`;
    if (restart !== 'Never') errs.push(invalidValue(`${path}.template.spec.restartPolicy`, restart, 'only "Never" is supported when podFailurePolicy is specified'));
    const rules = Array.isArray(spec.podFailurePolicy.rules) ? spec.podFailurePolicy.rules : [];
    if (rules.length > MAX_POD_FAILURE_POLICY_RULES) {
      errs.push(tooMany(`${p}.rules`, rules.length, MAX_POD_FAILURE_POLICY_RULES));
    }
    const names = new Set([...(spec.template?.spec?.containers ?? []), ...(spec.template?.spec?.initContainers ?? [])].map((c) => c.name));
    rules.forEach((r, i) => errs.push(...validatePodFailurePolicyRule(spec, r, `${p}.rules[${i}]`, names)));
  }
  if (spec.successPolicy) errs.push(...validateSuccessPolicy(spec, `${path}.successPolicy`));
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined) {
    const allowed = spec.podFailurePolicy ? ['Failed'] : ['Failed', 'TerminatingOrFailed'];
    if (!allowed.includes(replacement)) errs.push(notSupported(`${path}.podReplacementPolicy`, replacement, allowed));
  }
  if (restart !== 'OnFailure' && restart !== 'Never') errs.push(notSupported(`${path}.template.spec.restartPolicy`, restart, ['OnFailure', 'Never']));
  return errs;
}

/** A Job's spec (`ValidateJobSpec`): the body plus a selector that matches the template. */
export function validateJobSpec(spec: JobSpec | undefined, path = 'spec'): FieldError[] {
  const s = (spec ?? {}) as JobSpec;
  const errs = validateJobSpecBody(s, path);
  const selector = validateSelector(s.selector, `${path}.selector`, errs, true);
  if (selector) errs.push(...validatePodTemplate(s.template, selector, `${path}.template`));
  else errs.push(...validatePodSpec(s.template?.spec, `${path}.template.spec`));
  return errs;
}

/** The labels and selector a generated selector must have left (`validateGeneratedSelector`). */
function validateGeneratedSelector(job: Job): FieldError[] {
  if (job.spec?.manualSelector === true) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata?.uid ?? '';
  const labels = job.spec?.template?.metadata?.labels ?? {};
  const hasLabel = (key: string, want: string) => {
    const field = `spec.template.metadata.labels[${key}]`;
    if (labels[key] === undefined) errs.push(required(field));
    else if (labels[key] !== want) errs.push(invalidValue(field, labels[key], `must be '${want}'`));
  };
  hasLabel(LEGACY_CONTROLLER_UID_LABEL, uid);
  hasLabel(LEGACY_JOB_NAME_LABEL, job.metadata?.name ?? '');
  hasLabel(JOB_CONTROLLER_UID_LABEL, uid);
  hasLabel(JOB_NAME_LABEL, job.metadata?.name ?? '');
  const sel = fromLabelSelector(job.spec?.selector);
  if (sel.ok && job.spec?.selector && !sel.selector.requirements.some((r) => r.key === JOB_CONTROLLER_UID_LABEL && r.values.includes(uid))) {
    errs.push(invalidFormatted('spec.selector', goLabelSelector(job.spec.selector), '`selector` not auto-generated'));
  }
  return errs;
}

/** What may change in a Job's spec (`ValidateJobSpecUpdate`). */
function validateJobSpecUpdate(spec: JobSpec, old: JobSpec, oldStatus: Job['status']): FieldError[] {
  const errs: FieldError[] = [];
  // Elastic Indexed Jobs may change completions together with parallelism.
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism && old.completions === old.parallelism;
  if (!elastic && spec.completions !== old.completions) errs.push(immutable('spec.completions', spec.completions));
  errs.push(...selectorUnchanged(spec.selector, old.selector, 'spec.selector'));
  if (spec.completionMode !== old.completionMode) errs.push(immutable('spec.completionMode', spec.completionMode));
  if (!semanticallyEqual(spec.podFailurePolicy, old.podFailurePolicy)) errs.push(invalidOmitted('spec.podFailurePolicy', 'field is immutable'));
  if (!semanticallyEqual(spec.successPolicy, old.successPolicy)) errs.push(invalidOmitted('spec.successPolicy', 'field is immutable'));
  if (spec.backoffLimitPerIndex !== old.backoffLimitPerIndex) errs.push(immutable('spec.backoffLimitPerIndex', spec.backoffLimitPerIndex));
  if (spec.manualSelector !== old.manualSelector) errs.push(immutable('spec.manualSelector', spec.manualSelector));
  if (spec.managedBy !== old.managedBy) errs.push(immutable('spec.managedBy', spec.managedBy));
  // A suspended Job that never started may change its pods' scheduling directives.
  const t = spec.template ?? {};
  const o = old.template ?? {};
  const schedulingMutable = spec.suspend === true && !oldStatus?.startTime;
  const strip = (x: typeof t) => (schedulingMutable
    ? { ...x, metadata: {}, spec: { ...x.spec, nodeSelector: undefined, tolerations: undefined, affinity: undefined, schedulingGates: undefined } }
    : x);
  if (!semanticallyEqual(strip(t), strip(o))) errs.push(invalidOmitted('spec.template', 'field is immutable'));
  return errs;
}

/** A Job's status counters (`ValidateJobStatus`): non-negative. */
function validateJobStatus(status: Job['status'], path = 'status'): FieldError[] {
  const s = (status ?? {}) as Record<string, unknown>;
  return ['active', 'succeeded', 'failed', 'ready', 'terminating'].flatMap((f) => nonNegative(s[f], `${path}.${f}`));
}

/** A Job on create (after selector generation), or on update when `old` is given. */
export function validateJob(job: Job, old?: Job): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(job.metadata, old.metadata) : validateObjectMeta(job.metadata, true, nameIsDNSSubdomain);
  if (!old) errs.push(...validateGeneratedSelector(job));
  errs.push(...validateJobSpec(job.spec));
  if (old) errs.push(...validateJobSpecUpdate(job.spec ?? ({} as JobSpec), old.spec ?? ({} as JobSpec), old.status));
  errs.push(...validateJobStatus(job.status));
  return errs;
}

/** A CronJob's job template (`ValidateJobTemplateSpec`): the selector is always generated. */
function validateJobTemplate(t: JobTemplateSpec | undefined, path: string): FieldError[] {
  const spec = (t?.spec ?? {}) as JobSpec;
  const errs = validateJobSpecBody(spec, `${path}.spec`);
  errs.push(...validatePodSpec(spec.template?.spec, `${path}.spec.template.spec`));
  if (spec.selector) errs.push(invalidFormatted(`${path}.spec.selector`, goLabelSelector(spec.selector), '`selector` will be auto-generated'));
  if (spec.manualSelector === true) errs.push(notSupported(`${path}.spec.manualSelector`, true, ['nil', 'false']));
  return errs;
}

/** A CronJob on create, or on update when `old` is given (`ValidateCronJobCreate/Update`). */
export function validateCronJob(cj: CronJob, old?: CronJob): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(cj.metadata, old.metadata) : validateObjectMeta(cj.metadata, true, nameIsDNSSubdomain);
  const name = cj.metadata?.name ?? '';
  if (!old && name.length > CRONJOB_NAME_MAX) errs.push(invalidValue('metadata.name', name, maxLenError(CRONJOB_NAME_MAX)));
  const spec = (cj.spec ?? {}) as NonNullable<CronJob['spec']>;
  const schedule = spec.schedule ?? '';
  if (!schedule) errs.push(required('spec.schedule'));
  else {
    if (/^\s*(CRON_)?TZ=/.test(schedule)) {
      errs.push(invalidValue('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    } else {
      const parsed = parseSchedule(schedule);
      if (!parsed.ok) errs.push(invalidValue('spec.schedule', schedule, parsed.error));
    }
  }
  if (spec.timeZone !== undefined && spec.timeZone !== null) {
    if (spec.timeZone === '' || /^\s|\s$/.test(spec.timeZone)) errs.push(invalidValue('spec.timeZone', spec.timeZone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    else if (!isValidTimeZone(spec.timeZone)) errs.push(invalidValue('spec.timeZone', spec.timeZone, `unknown time zone ${spec.timeZone}`));
  }
  const policy = spec.concurrencyPolicy ?? '';
  if (!policy) errs.push(required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) errs.push(notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']));
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  errs.push(...validateJobTemplate(spec.jobTemplate, 'spec.jobTemplate'));
  return errs;
}
