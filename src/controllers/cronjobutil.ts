/**
 * The CronJob controller's planner (Kubernetes' `cronjob_controllerv2.go`: `syncCronJob`,
 * `mostRecentScheduleTime`, `cleanupFinishedJobs`), without I/O: from a CronJob, the Jobs it
 * owns and the time, which Jobs to create or delete, the status to write, the events, and when
 * to look again. Time is a parameter, so a restarted control plane's missed schedules (and
 * every other timing rule) are unit-tested by passing the time.
 */
import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from '../api/types.js';
import { CRONJOB_SCHEDULED_TIMESTAMP } from '../api/batchdefaults.js';
import { parseSchedule, type Schedule } from '../api/cron.js';
import { jobCondition, kubeTime } from './jobutil.js';
import { newControllerRef, timeMs } from './podutil.js';
import type { JobObject } from './types.js';

/** More missed start times than this get a warning (Kubernetes' limit of 100). */
export const MAX_MISSED_REPORTED = 100;
/** How far the search for missed times goes before estimating (keeps a sync cheap). */
const MAX_SCHEDULE_STEPS = 100_000;

export interface CronJobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface CronJobPlan {
  /** The Job to create (named `<cronjob>-<minutes since epoch>`), if it is time. */
  create?: JobObject;
  /** Jobs to delete: finished ones beyond the history limits, and (Replace) the active ones. */
  delete: { job: JobObject; reason: 'history' | 'replace' }[];
  /** The status to write (active list, lastScheduleTime, lastSuccessfulTime). */
  status: CronJobStatus;
  events: CronJobEvent[];
  /** When to sync again (the next schedule time), ms from now. */
  requeueAfterMs?: number;
}

const isFinished = (j: Job): boolean => jobCondition(j, 'Complete') !== undefined || jobCondition(j, 'Failed') !== undefined;

/** The name of the Job for a scheduled time: `<cronjob>-<minutes since the epoch>`. */
export const jobNameFor = (cj: CronJob, scheduled: Date): string => `${cj.metadata?.name ?? ''}-${Math.floor(scheduled.getTime() / 60_000)}`;

/**
 * The most recent schedule time at or before `now` not yet started (Kubernetes'
 * `mostRecentScheduleTime`), and how many were missed: counted from the last schedule time (or
 * the creation), but no earlier than `startingDeadlineSeconds` ago. Undefined when none is due.
 */
export function mostRecentScheduleTime(cj: CronJob, schedule: Schedule, now: Date): { time: Date; missed: number } | undefined {
  let earliest = timeMs(cj.status?.lastScheduleTime) ?? timeMs(cj.metadata?.creationTimestamp) ?? now.getTime();
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null) earliest = Math.max(earliest, now.getTime() - sds * 1000);
  let t = schedule.next(new Date(earliest));
  if (t.getTime() > now.getTime()) return undefined;
  let missed = 0;
  let last = t;
  for (let steps = 0; t.getTime() <= now.getTime(); steps++) {
    missed++;
    last = t;
    if (steps >= MAX_SCHEDULE_STEPS) {
      // Estimate the rest at the current interval rather than walking years of minutes.
      const interval = schedule.next(t).getTime() - t.getTime();
      const more = Math.floor((now.getTime() - t.getTime()) / interval);
      missed += more;
      last = new Date(t.getTime() + more * interval);
      break;
    }
    t = schedule.next(t);
  }
  return { time: last, missed };
}

/** The Job a CronJob starts for `scheduled` (`getJobFromTemplate2`). */
export function jobFromCronJob(cj: CronJob, scheduled: Date): JobObject {
  const t = structuredClone(cj.spec?.jobTemplate ?? {});
  const annotations = { ...(t.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP]: kubeTime(scheduled) };
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduled),
      namespace: cj.metadata?.namespace,
      ...(t.metadata?.labels ? { labels: t.metadata.labels } : {}),
      annotations,
      ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
    },
    spec: t.spec ?? { template: {} },
  };
}

const refTo = (j: JobObject): ObjectReference => ({
  kind: 'Job', namespace: j.metadata?.namespace, name: j.metadata?.name, uid: j.metadata?.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata?.resourceVersion,
});

/** Finished Jobs beyond a limit, oldest first (`removeOldestJobs`: by start time). */
function oldestBeyond(jobs: readonly JobObject[], limit: number): JobObject[] {
  if (jobs.length <= limit) return [];
  const start = (j: JobObject) => timeMs(j.status?.startTime) ?? timeMs(j.metadata?.creationTimestamp) ?? 0;
  return [...jobs].sort((a, b) => start(a) - start(b)).slice(0, jobs.length - limit);
}

/** Formats a time as Go's `time.RFC1123Z` would for events (`Mon, 02 Jan 2006 15:04:05 +0000`). */
function rfc1123z(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * Plans one sync of `cj` given the Jobs it controls (`jobs`) at `now`:
 * 1. the active list drops Jobs that finished (`SawCompletedJob`; `lastSuccessfulTime` from a
 *    Complete one) or are gone (`MissingJob`);
 * 2. finished Jobs beyond `successfulJobsHistoryLimit`/`failedJobsHistoryLimit` are deleted;
 * 3. unless suspended or being deleted: the most recent unmet schedule time is found (more than
 *    100 missed: `TooManyMissedTimes`, and only the latest runs); too late for
 *    `startingDeadlineSeconds`: `MissSchedule`; `Forbid` with an active Job: `JobAlreadyActive`;
 *    `Replace`: the active Jobs are deleted; then the Job for that time is created.
 */
export function planCronJob(cj: CronJob, jobs: readonly JobObject[], now: Date): CronJobPlan {
  const events: CronJobEvent[] = [];
  const del: CronJobPlan['delete'] = [];
  const status: CronJobStatus = { ...(cj.status ?? {}) };
  const byUid = new Map(jobs.map((j) => [j.metadata?.uid, j]));
  let active = [...(cj.status?.active ?? [])];

  // 1. The active list.
  for (const ref of cj.status?.active ?? []) {
    const job = byUid.get(ref.uid);
    if (!job) {
      active = active.filter((r) => r.uid !== ref.uid);
      events.push({ type: 'Normal', reason: 'MissingJob', message: `Active job went missing: ${ref.name ?? ''}` });
      continue;
    }
    if (isFinished(job)) {
      active = active.filter((r) => r.uid !== ref.uid);
      const cond = jobCondition(job, 'Complete') ? 'Complete' : 'Failed';
      events.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${job.metadata?.name ?? ''}, condition: ${cond}` });
    }
  }
  for (const job of jobs) {
    if (!isFinished(job) && !active.some((r) => r.uid === job.metadata?.uid) && !job.metadata?.deletionTimestamp) {
      events.push({ type: 'Warning', reason: 'UnexpectedJob', message: `Saw a job that the controller did not create or forgot: ${job.metadata?.name ?? ''}` });
    }
    const done = jobCondition(job, 'Complete');
    if (done && job.status?.completionTime) {
      const t = timeMs(job.status.completionTime) ?? 0;
      if (t > (timeMs(status.lastSuccessfulTime) ?? 0)) status.lastSuccessfulTime = job.status.completionTime;
    }
  }

  // 2. History limits.
  const successful = jobs.filter((j) => jobCondition(j, 'Complete') && !j.metadata?.deletionTimestamp);
  const failed = jobs.filter((j) => jobCondition(j, 'Failed') && !j.metadata?.deletionTimestamp);
  for (const job of oldestBeyond(successful, cj.spec?.successfulJobsHistoryLimit ?? 3)) del.push({ job, reason: 'history' });
  for (const job of oldestBeyond(failed, cj.spec?.failedJobsHistoryLimit ?? 1)) del.push({ job, reason: 'history' });

  const plan: { create?: JobObject; requeueAfterMs?: number } = {};
  const done = (): CronJobPlan => {
    status.active = active;
    if (!status.active.length) delete status.active;
    return { delete: del, status, events, create: plan.create, requeueAfterMs: plan.requeueAfterMs };
  };
  if (cj.metadata?.deletionTimestamp || cj.spec?.suspend) return done();

  // 3. Scheduling.
  const parsed = parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone);
  if (!parsed.ok) {
    events.push({ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule: ${JSON.stringify(cj.spec?.schedule ?? '')} : ${parsed.error}` });
    return done();
  }
  const schedule = parsed.schedule;
  const untilNext = () => Math.max(0, schedule.next(now).getTime() - now.getTime()) + 100;
  plan.requeueAfterMs = untilNext();
  const due = mostRecentScheduleTime(cj, schedule, now);
  if (!due) return done();
  if (due.missed > MAX_MISSED_REPORTED) {
    events.push({
      type: 'Warning', reason: 'TooManyMissedTimes',
      message: `too many missed start times: ${due.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
    });
  }
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null && due.time.getTime() + sds * 1000 < now.getTime()) {
    events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${rfc1123z(due.time)}` });
    return done();
  }
  const name = jobNameFor(cj, due.time);
  if (active.some((r) => r.name === name) || timeMs(cj.status?.lastScheduleTime) === due.time.getTime()) return done();
  if (cj.spec?.concurrencyPolicy === 'Forbid' && active.length > 0) {
    events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
    return done();
  }
  if (cj.spec?.concurrencyPolicy === 'Replace') {
    for (const ref of active) {
      const job = byUid.get(ref.uid);
      if (job) del.push({ job, reason: 'replace' });
    }
    active = [];
  }
  plan.create = jobFromCronJob(cj, due.time);
  status.lastScheduleTime = kubeTime(due.time);
  return done();
}

/** Adds a created Job to the status's active list. */
export function withActiveJob(status: CronJobStatus, job: JobObject): CronJobStatus {
  return { ...status, active: [...(status.active ?? []), refTo(job)] };
}
