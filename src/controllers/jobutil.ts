/**
 * The Job controller's planner (Kubernetes' `pkg/controller/job`: `syncJob`, `manageJob`,
 * `trackJobStatusAndRemoveFinalizers`, the pod failure policy and the success policy), without
 * I/O: from a Job, the pods it owns and the time, what to create, delete and un-finalize, and
 * the status to write. The controller (`job.ts`) carries the plan out.
 *
 * Counting is exactly-once, as Kubernetes does it with the `batch.kubernetes.io/job-tracking`
 * finalizer: a finished pod that still carries the finalizer is first recorded in
 * `status.uncountedTerminatedPods` (the interim status), then its finalizer is removed, then it
 * moves into `succeeded`/`failed` (the final status). A uid already recorded is never counted
 * twice, and a pod whose finalizer is gone is never looked at again.
 */
import type { Job, JobCondition, JobStatus, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { EnvVar, Pod } from '../api/types.js';
import {
  JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER,
} from '../api/batchdefaults.js';
import { formatIndexes, parseIndexes } from '../api/indexset.js';
import { isPodReady, newControllerRef, sortPodsForDeletion, timeMs } from './podutil.js';
import type { PodObject } from './types.js';

/** Annotation with how often an index failed before (with `backoffLimitPerIndex`). */
export const JOB_INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
/** Kubernetes' `DefaultJobPodFailureBackOff` and `MaxJobPodFailureBackOff`. */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;

/** RFC 3339 without fractions, as Kubernetes writes times. */
export const kubeTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** One pod to create; `index` for Indexed Jobs. */
export interface PodToCreate {
  index?: number;
  /** Failures of this index so far (with `backoffLimitPerIndex`). */
  indexFailures?: number;
}

export interface JobPlan {
  /** Pods to create now (empty while expectations are unmet or a back-off runs). */
  create: PodToCreate[];
  /** Active pods to delete (failure, success, suspension, surplus). */
  delete: PodObject[];
  /** Pods whose tracking finalizer is to be removed (their outcome is recorded). */
  removeFinalizers: PodObject[];
  /**
   * The status to write before removing finalizers, when pods were newly recorded in
   * `uncountedTerminatedPods`; undefined when there is nothing new to record.
   */
  interimStatus?: JobStatus;
  /** The status once the finalizers are removed and the pods counted. */
  status: JobStatus;
  events: JobEvent[];
  /** Sync again after this long (a back-off, the active deadline), if set. */
  requeueAfterMs?: number;
}

export interface PlanJobOptions {
  /** Whether pods may be created or deleted (false while expectations are unmet). */
  manage?: boolean;
  /** Uids whose finalizer removal was already sent (the cache may still show it). */
  finalizerRemoved?: ReadonlySet<string>;
  /** First back-off before replacing a failed pod (default 10 s, doubled per failure). */
  backoffBaseMs?: number;
}

const isIndexed = (job: Job): boolean => job.spec?.completionMode === 'Indexed';
const hasFinalizer = (p: Pod): boolean => (p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
const isTerminal = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** Counts toward `active`: not finished and not being deleted. */
const isActive = (p: Pod): boolean => !isTerminal(p) && !p.metadata?.deletionTimestamp;
const isTerminating = (p: Pod): boolean => !isTerminal(p) && !!p.metadata?.deletionTimestamp;

/** A condition of the Job with status True, if any. */
export function jobCondition(job: Job, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

/** Whether the Job has finished: a `Complete` or `Failed` condition. */
export const isJobFinished = (job: Job): boolean => jobCondition(job, 'Complete') !== undefined || jobCondition(job, 'Failed') !== undefined;

/** The completion index of a pod (annotation, then label), or undefined. */
export function completionIndexOf(pod: Pod): number | undefined {
  const v = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX] ?? pod.metadata?.labels?.[JOB_COMPLETION_INDEX];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Whether a pod counts as failed (`isPodFailed`): phase Failed, or — under the default
 * `podReplacementPolicy` TerminatingOrFailed — being deleted without having succeeded (orphans
 * that never reach a phase count as failures).
 */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (job.spec?.podReplacementPolicy === 'Failed') return false;
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

/** When a finished pod finished: its containers' latest finish, else its last condition change. */
function finishedAt(pod: Pod): number | undefined {
  const times = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
    .map((c) => timeMs(c.state?.terminated?.finishedAt)).filter((t): t is number => t !== undefined);
  if (times.length) return Math.max(...times);
  const conds = (pod.status?.conditions ?? []).map((c) => timeMs(c.lastTransitionTime)).filter((t): t is number => t !== undefined);
  return conds.length ? Math.max(...conds) : undefined;
}

/** What a pod failure policy rule decided about a failed pod. */
export interface PolicyMatch {
  action: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
  /** The Job condition message for FailJob, e.g. `Container main for pod default/x failed with exit code 42 matching FailJob rule at index 0`. */
  message: string;
}

function ruleMatches(rule: PodFailurePolicyRule, pod: Pod): string | undefined {
  const ref = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  if (rule.onExitCodes) {
    const req = rule.onExitCodes;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const s of statuses) {
      const code = s.state?.terminated?.exitCode;
      if (code === undefined || code === 0) continue;
      if (req.containerName && req.containerName !== s.name) continue;
      const listed = (req.values ?? []).includes(code);
      if ((req.operator === 'In' && listed) || (req.operator === 'NotIn' && !listed)) {
        return `Container ${s.name} for pod ${ref} failed with exit code ${code}`;
      }
    }
    return undefined;
  }
  for (const pattern of rule.onPodConditions ?? []) {
    const c = (pod.status?.conditions ?? []).find((x) => x.type === pattern.type && x.status === (pattern.status || 'True'));
    if (c) return `Pod ${ref} has condition ${pattern.type}`;
  }
  return undefined;
}

/** The first pod failure policy rule matching a failed pod (`matchPodFailurePolicy`). */
export function matchPodFailurePolicy(job: Job, pod: Pod): PolicyMatch | undefined {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const what = ruleMatches(rules[i], pod);
    if (what !== undefined) {
      const action = rules[i].action as PolicyMatch['action'];
      return { action, message: `${what} matching ${action} rule at index ${i}` };
    }
  }
  return undefined;
}

const condition = (type: string, reason: string, message: string, now: Date, status = 'True'): JobCondition =>
  ({ type, status, reason, message, lastProbeTime: kubeTime(now), lastTransitionTime: kubeTime(now) });

/** The conditions with `c` set (replacing one of its type; unchanged when equal in status, reason and message). */
function setCondition(conds: JobCondition[], c: JobCondition): JobCondition[] {
  const i = conds.findIndex((x) => x.type === c.type);
  if (i < 0) return [...conds, c];
  const old = conds[i];
  if (old.status === c.status && old.reason === c.reason && old.message === c.message) return conds;
  const out = [...conds];
  out[i] = old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  return out;
}

/**
 * Back-off before replacing failed pods (`getRemainingTime` over the backoff record): with n
 * failures since the last success, the next pod waits base × 2^(n−1) (at most 10 min) after
 * the last failure. Returns the ms left (0: now).
 */
export function podFailureBackoffLeft(pods: readonly Pod[], job: Job, now: number, baseMs = DEFAULT_POD_FAILURE_BACKOFF_MS): number {
  const lastSuccess = Math.max(-Infinity, ...pods.filter((p) => p.status?.phase === 'Succeeded').map((p) => finishedAt(p) ?? -Infinity));
  const failures = pods.filter((p) => isPodFailed(p, job)).map((p) => finishedAt(p) ?? now).filter((t) => t > lastSuccess);
  if (failures.length === 0) return 0;
  const delay = Math.min(MAX_POD_FAILURE_BACKOFF_MS, baseMs * 2 ** (failures.length - 1));
  return Math.max(0, Math.max(...failures) + delay - now);
}

/** Container restarts of active pods reach the back-off limit (restartPolicy OnFailure). */
function pastBackoffLimitOnFailure(job: Job, active: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of active) {
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** Which success policy rule the succeeded indexes meet (`matchSuccessPolicy`), by index. */
function matchSuccessPolicy(job: Job, succeeded: ReadonlySet<number>): number | undefined {
  const rules = job.spec?.successPolicy?.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    let pool = [...succeeded];
    if (r.succeededIndexes !== undefined) {
      const parsed = parseIndexes(r.succeededIndexes);
      if (!parsed.ok) continue;
      const want = new Set(parsed.indexes);
      pool = pool.filter((x) => want.has(x));
      if (r.succeededCount === undefined && pool.length !== want.size) continue;
    }
    if (r.succeededCount !== undefined && pool.length < r.succeededCount) continue;
    return i;
  }
  return undefined;
}

/**
 * Plans one sync of `job` over the pods it controls (`pods`: every pod with its controller
 * reference, active or not), at `now`.
 */
export function planJob(job: Job, pods: readonly PodObject[], now: Date, opts: PlanJobOptions = {}): JobPlan {
  const nowMs = now.getTime();
  const spec = job.spec ?? ({} as NonNullable<Job['spec']>);
  const old = job.status ?? {};
  const indexed = isIndexed(job);
  const completions = spec.completions;
  const removed = opts.finalizerRemoved ?? new Set<string>();
  const events: JobEvent[] = [];
  const suspended = spec.suspend === true;
  const finished = isJobFinished(job);
  const recordedSucc = new Set(old.uncountedTerminatedPods?.succeeded ?? []);
  const recordedFail = new Set(old.uncountedTerminatedPods?.failed ?? []);
  let conditions: JobCondition[] = [...(old.conditions ?? [])];
  let target = jobCondition(job, 'FailureTarget') ?? jobCondition(job, 'SuccessCriteriaMet');

  const active = pods.filter(isActive);
  const completed = new Set(parseIndexesOrEmpty(old.completedIndexes));
  const failedIndexes = new Set(parseIndexesOrEmpty(old.failedIndexes));
  const perIndex = spec.backoffLimitPerIndex;

  // 1. Record newly finished pods that still carry the finalizer.
  const newSucc: PodObject[] = [];
  const newFail: PodObject[] = [];
  const removeFinalizers: PodObject[] = [];
  let failJob: string | undefined;
  for (const pod of pods) {
    const uid = pod.metadata?.uid ?? '';
    if (!hasFinalizer(pod) || removed.has(uid)) continue;
    if (recordedSucc.has(uid) || recordedFail.has(uid)) {
      removeFinalizers.push(pod);
      continue;
    }
    const succeeded = pod.status?.phase === 'Succeeded';
    const failed = !succeeded && (isPodFailed(pod, job) || (finished && !isActive(pod)));
    if (finished && !succeeded && !failed) {
      // A finished Job lets go of what is left.
      removeFinalizers.push(pod);
      continue;
    }
    if (!succeeded && !failed) continue;
    // Pods deleted because the Job was suspended are not failures.
    if (failed && suspended && pod.status?.phase !== 'Failed') {
      removeFinalizers.push(pod);
      continue;
    }
    removeFinalizers.push(pod);
    const ix = completionIndexOf(pod);
    const validIndex = !indexed || (ix !== undefined && completions !== undefined && ix < completions);
    if (succeeded) {
      if (!validIndex) continue;
      if (indexed && ix !== undefined) {
        if (completed.has(ix)) continue;
        completed.add(ix);
      }
      newSucc.push(pod);
      continue;
    }
    if (!validIndex) continue;
    if (spec.podFailurePolicy && pod.status?.phase === 'Failed') {
      const match = matchPodFailurePolicy(job, pod);
      if (match?.action === 'Ignore') continue;
      if (match?.action === 'FailJob' && !failJob) failJob = match.message;
      if (match?.action === 'FailIndex' && ix !== undefined) failedIndexes.add(ix);
    }
    if (perIndex !== undefined && ix !== undefined && !failedIndexes.has(ix)) {
      const failuresBefore = Number(pod.metadata?.annotations?.[JOB_INDEX_FAILURE_COUNT] ?? '0') || 0;
      if (failuresBefore + 1 > perIndex) failedIndexes.add(ix);
    }
    newFail.push(pod);
  }

  const baseSucceeded = old.succeeded ?? 0;
  const baseFailed = old.failed ?? 0;
  const succeededCount = indexed ? completed.size : baseSucceeded + recordedSucc.size + newSucc.length;
  const failedCount = baseFailed + recordedFail.size + newFail.length;

  // 2. Decide whether the Job has met its success or failure criteria.
  const startTime = old.startTime;
  const hadSuspended = (old.conditions ?? []).some((c) => c.type === 'Suspended' && c.status === 'True');
  if (!finished && !target) {
    const limit = spec.backoffLimit ?? 6;
    if (failJob) target = condition('FailureTarget', 'PodFailurePolicy', failJob, now);
    else if (failedCount > limit || pastBackoffLimitOnFailure(job, active)) {
      target = condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
    } else if (spec.maxFailedIndexes !== undefined && failedIndexes.size > spec.maxFailedIndexes) {
      target = condition('FailureTarget', 'MaxFailedIndexesExceeded', 'Job has exceeded the specified maximum number of failed indexes', now);
    } else if (!suspended && startTime && spec.activeDeadlineSeconds !== undefined
      && nowMs - Date.parse(startTime) >= spec.activeDeadlineSeconds * 1000) {
      target = condition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
    } else if (indexed && spec.successPolicy) {
      const rule = matchSuccessPolicy(job, completed);
      if (rule !== undefined) target = condition('SuccessCriteriaMet', 'SuccessPolicy', `Matched rules at index ${rule}`, now);
    }
    if (!target) {
      const done = completions === undefined
        ? succeededCount > 0 && active.length === 0
        : indexed ? completed.size + failedIndexes.size >= completions : succeededCount >= completions;
      if (done && indexed && failedIndexes.size > 0) target = condition('FailureTarget', 'FailedIndexes', 'Job has failed indexes', now);
      else if (done) target = condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    }
    if (target) conditions = setCondition(conditions, target);
  }

  // 3. Which pods to run: none once decided, suspended or finished; else up to parallelism.
  const manage = opts.manage !== false;
  const create: PodToCreate[] = [];
  let del: PodObject[] = [];
  let requeueAfterMs: number | undefined;
  const parallelism = spec.parallelism ?? 1;
  if (finished || target || suspended) {
    if (manage) del = [...active];
  } else {
    let wantActive: number;
    if (completions === undefined) wantActive = succeededCount > 0 ? 0 : parallelism;
    else if (indexed) wantActive = Math.min(parallelism, Math.max(0, completions - completed.size - failedIndexes.size));
    else wantActive = Math.min(parallelism, Math.max(0, completions - succeededCount));
    if (indexed) {
      // One active pod per index still to do; duplicates and out-of-range indexes go.
      const byIndex = new Map<number, PodObject[]>();
      const surplus: PodObject[] = [];
      for (const p of active) {
        const ix = completionIndexOf(p);
        if (ix === undefined || completions === undefined || ix >= completions || completed.has(ix) || failedIndexes.has(ix)) surplus.push(p);
        else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
      }
      for (const list of byIndex.values()) surplus.push(...sortPodsForDeletion(list, () => 0, nowMs).slice(0, list.length - 1));
      const running = active.length - surplus.length;
      const extra = Math.max(0, running - wantActive);
      const keep = active.filter((p) => !surplus.includes(p));
      del = [...surplus, ...sortPodsForDeletion(keep, () => 0, nowMs).slice(0, extra)];
      const busy = new Set([...byIndex.keys()]);
      const terminatingIx = new Set(pods.filter(isTerminating).map(completionIndexOf).filter((x): x is number => x !== undefined));
      const failureCount = (ix: number) => pods.filter((p) => completionIndexOf(p) === ix && isPodFailed(p, job)).length;
      for (let ix = 0; completions !== undefined && ix < completions && running + create.length < wantActive; ix++) {
        if (completed.has(ix) || failedIndexes.has(ix) || busy.has(ix)) continue;
        if (spec.podReplacementPolicy === 'Failed' && terminatingIx.has(ix)) continue;
        create.push(perIndex !== undefined ? { index: ix, indexFailures: failureCount(ix) } : { index: ix });
      }
    } else {
      const diff = active.length - wantActive;
      if (diff > 0) del = sortPodsForDeletion(active, () => 0, nowMs).slice(0, diff);
      else {
        const terminating = spec.podReplacementPolicy === 'Failed' ? pods.filter(isTerminating).length : 0;
        for (let i = 0; i < -diff - terminating; i++) create.push({});
      }
    }
    if (create.length > 0) {
      const left = podFailureBackoffLeft(pods, job, nowMs, opts.backoffBaseMs);
      if (left > 0) {
        create.length = 0;
        requeueAfterMs = left;
      }
    }
    if (!manage) {
      create.length = 0;
      del = [];
    }
  }

  // 4. Suspension and resumption.
  let nextStart = startTime;
  if (!finished) {
    if (suspended && !target) {
      if (!hadSuspended) {
        conditions = setCondition(conditions, condition('Suspended', 'JobSuspended', 'Job suspended', now));
        events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
      }
    } else if (!suspended) {
      if (hadSuspended) {
        conditions = setCondition(conditions, condition('Suspended', 'JobResumed', 'Job resumed', now, 'False'));
        events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
        nextStart = kubeTime(now);
      } else nextStart ??= kubeTime(now);
    }
  }
  if (!finished && !target && !suspended && spec.activeDeadlineSeconds !== undefined && nextStart) {
    const left = Date.parse(nextStart) + spec.activeDeadlineSeconds * 1000 - nowMs;
    requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(0, left));
  }

  // 5. Counts after this sync's actions; the terminal condition once nothing runs any more.
  const deleting = new Set(del.map((p) => p.metadata?.uid));
  const activeAfter = active.length - del.length + create.length;
  const terminating = pods.filter(isTerminating).length + del.length;
  const ready = active.filter((p) => !deleting.has(p.metadata?.uid) && isPodReady(p)).length;
  let completionTime = old.completionTime;
  if (!finished && target && activeAfter === 0 && terminating === 0) {
    const success = target.type === 'SuccessCriteriaMet';
    conditions = setCondition(conditions, condition(success ? 'Complete' : 'Failed', target.reason ?? '', target.message ?? '', now));
    if (success) {
      completionTime = kubeTime(now);
      events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    } else {
      events.push({ type: 'Warning', reason: target.reason ?? 'Failed', message: target.message ?? '' });
    }
  }

  const final: JobStatus = {};
  if (conditions.length) final.conditions = conditions;
  if (nextStart) final.startTime = nextStart;
  if (completionTime) final.completionTime = completionTime;
  if (activeAfter > 0) final.active = activeAfter;
  if (succeededCount > 0) final.succeeded = succeededCount;
  if (failedCount > 0) final.failed = failedCount;
  if (indexed) {
    const text = formatIndexes(completed);
    if (text) final.completedIndexes = text;
    if (perIndex !== undefined) {
      const f = formatIndexes(failedIndexes);
      if (f) final.failedIndexes = f;
    }
  }
  final.terminating = terminating;
  final.uncountedTerminatedPods = {};
  final.ready = ready;

  let interimStatus: JobStatus | undefined;
  if (newSucc.length || newFail.length) {
    const uids = (ps: readonly Pod[]) => ps.map((p) => p.metadata?.uid ?? '');
    const interimSucc = [...recordedSucc, ...uids(newSucc)];
    const interimFail = [...recordedFail, ...uids(newFail)];
    interimStatus = {
      ...final,
      uncountedTerminatedPods: { ...(interimSucc.length ? { succeeded: interimSucc } : {}), ...(interimFail.length ? { failed: interimFail } : {}) },
    };
    const sc = indexed ? completed.size : baseSucceeded;
    if (sc > 0) interimStatus.succeeded = sc;
    else delete interimStatus.succeeded;
    if (baseFailed > 0) interimStatus.failed = baseFailed;
    else delete interimStatus.failed;
    // The terminal condition waits for the counts to be final.
    interimStatus.conditions = (interimStatus.conditions ?? []).filter((c) => c.type !== 'Complete' && c.type !== 'Failed' || finished);
    delete interimStatus.completionTime;
    if (old.completionTime) interimStatus.completionTime = old.completionTime;
  }
  return { create, delete: del, removeFinalizers, interimStatus, status: final, events, requeueAfterMs };
}

function parseIndexesOrEmpty(text: string | undefined): number[] {
  if (!text) return [];
  const parsed = parseIndexes(text);
  return parsed.ok ? parsed.indexes : [];
}

/**
 * The pod a Job creates (`getPodsForJob` templates): the template's labels and annotations,
 * the tracking finalizer, the Job as controller; for an Indexed Job the completion index as
 * annotation and label, `JOB_COMPLETION_INDEX` in every container's environment, and the
 * hostname `<job>-<index>` unless the template sets one.
 */
export function jobPodFromTemplate(job: Job, want: PodToCreate): PodObject {
  const t = structuredClone(job.spec?.template ?? {});
  const meta = t.metadata ?? {};
  const name = job.metadata?.name ?? '';
  const spec = t.spec ?? { containers: [] };
  const labels: Record<string, string> = { ...(meta.labels ?? {}) };
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  if (want.index !== undefined) {
    const ix = String(want.index);
    labels[JOB_COMPLETION_INDEX] = ix;
    annotations[JOB_COMPLETION_INDEX] = ix;
    if (want.indexFailures !== undefined) annotations[JOB_INDEX_FAILURE_COUNT] = String(want.indexFailures);
    const env: EnvVar = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX}']` } } };
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (!(c.env ?? []).some((e) => e.name === 'JOB_COMPLETION_INDEX')) c.env = [...(c.env ?? []), env];
    }
    if (!spec.hostname) spec.hostname = `${name}-${ix}`;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: want.index !== undefined ? `${name}-${want.index}-` : `${name}-`,
      namespace: job.metadata?.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      finalizers: [...(meta.finalizers ?? []), JOB_TRACKING_FINALIZER],
      ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
    },
    spec,
  };
}
