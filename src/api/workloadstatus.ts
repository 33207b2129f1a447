/**
 * The table rows `kubectl get` prints for the workload kinds beyond Deployments and
 * ReplicaSets — Jobs, CronJobs, DaemonSets, StatefulSets, ControllerRevisions and
 * ReplicationControllers — computed as Kubernetes' printers do (`printJob`, `printCronJob`,
 * `printDaemonSet`, `printStatefulSet`, `printControllerRevision`,
 * `printReplicationController`). Used by the API server's Table output and by the CLI. Pure;
 * the current time is a parameter.
 */
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { containerCells, formatLabelSelector } from './appsstatus.js';
import { age, humanDuration } from './podstatus.js';

const count = (n: number | undefined | null): number => (typeof n === 'number' ? n : 0);
const hasCondition = (conds: readonly JobCondition[] | undefined, type: string): boolean =>
  (conds ?? []).some((c) => c.type === type && c.status === 'True');

/** A Job's STATUS column, in kubectl 1.32's order of precedence. */
export function jobStatusText(job: Job): string {
  const conds = job.status?.conditions;
  if (hasCondition(conds, 'Complete')) return 'Complete';
  if (hasCondition(conds, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(conds, 'Suspended')) return 'Suspended';
  if (hasCondition(conds, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(conds, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

export interface JobRow {
  name: string;
  status: string;
  /** `2/6`, or `0/1 of 3` for a work-queue Job with parallelism 3. */
  completions: string;
  duration: string;
  age: string;
  containers: string;
  images: string;
  selector: string;
}

export function jobRow(job: Job, now: Date): JobRow {
  const succeeded = count(job.status?.succeeded);
  let completions: string;
  if (job.spec?.completions !== undefined && job.spec.completions !== null) completions = `${succeeded}/${job.spec.completions}`;
  else {
    const parallelism = count(job.spec?.parallelism);
    completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  }
  const start = job.status?.startTime ? Date.parse(job.status.startTime) : undefined;
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : undefined;
  const duration = start === undefined ? '' : humanDuration((end ?? now.getTime()) - start);
  return {
    name: job.metadata?.name ?? '', status: jobStatusText(job), completions, duration, age: age(job.metadata?.creationTimestamp, now),
    ...containerCells(job.spec?.template?.spec?.containers), selector: formatLabelSelector(job.spec?.selector),
  };
}

export interface CronJobRow {
  name: string;
  schedule: string;
  timezone: string;
  suspend: string;
  active: string;
  lastSchedule: string;
  age: string;
  containers: string;
  images: string;
  selector: string;
}

export function cronJobRow(cj: CronJob, now: Date): CronJobRow {
  const last = cj.status?.lastScheduleTime;
  return {
    name: cj.metadata?.name ?? '',
    schedule: cj.spec?.schedule ?? '',
    timezone: cj.spec?.timeZone ?? '<none>',
    suspend: cj.spec?.suspend ? 'True' : 'False',
    active: String((cj.status?.active ?? []).length),
    lastSchedule: last ? age(last, now) : '<none>',
    age: age(cj.metadata?.creationTimestamp, now),
    ...containerCells(cj.spec?.jobTemplate?.spec?.template?.spec?.containers),
    selector: formatLabelSelector(cj.spec?.jobTemplate?.spec?.selector),
  };
}

export interface DaemonSetRow {
  name: string;
  desired: string;
  current: string;
  ready: string;
  upToDate: string;
  available: string;
  nodeSelector: string;
  age: string;
  containers: string;
  images: string;
  selector: string;
}

export function daemonSetRow(ds: DaemonSet, now: Date): DaemonSetRow {
  const s = ds.status;
  const nodeSelector = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    name: ds.metadata?.name ?? '',
    desired: String(count(s?.desiredNumberScheduled)),
    current: String(count(s?.currentNumberScheduled)),
    ready: String(count(s?.numberReady)),
    upToDate: String(count(s?.updatedNumberScheduled)),
    available: String(count(s?.numberAvailable)),
    nodeSelector: nodeSelector || '<none>',
    age: age(ds.metadata?.creationTimestamp, now),
    ...containerCells(ds.spec?.template?.spec?.containers),
    selector: formatLabelSelector(ds.spec?.selector),
  };
}

export interface StatefulSetRow {
  name: string;
  ready: string;
  age: string;
  containers: string;
  images: string;
}

export function statefulSetRow(ss: StatefulSet, now: Date): StatefulSetRow {
  return {
    name: ss.metadata?.name ?? '',
    ready: `${count(ss.status?.readyReplicas)}/${count(ss.spec?.replicas)}`,
    age: age(ss.metadata?.creationTimestamp, now),
    ...containerCells(ss.spec?.template?.spec?.containers),
  };
}

export interface ControllerRevisionRow {
  name: string;
  controller: string;
  revision: string;
  age: string;
}

export function controllerRevisionRow(cr: ControllerRevision, now: Date): ControllerRevisionRow {
  const ref = cr.metadata?.ownerReferences?.find((r) => r.controller);
  let controller = '<none>';
  if (ref) {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    controller = `${ref.kind.toLowerCase()}${group ? `.${group}` : ''}/${ref.name}`;
  }
  return { name: cr.metadata?.name ?? '', controller, revision: String(cr.revision ?? 0), age: age(cr.metadata?.creationTimestamp, now) };
}

export interface ReplicationControllerRow {
  name: string;
  desired: string;
  current: string;
  ready: string;
  age: string;
  containers: string;
  images: string;
  selector: string;
}

export function replicationControllerRow(rc: ReplicationController, now: Date): ReplicationControllerRow {
  const selector = Object.entries(rc.spec?.selector ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    name: rc.metadata?.name ?? '',
    desired: String(count(rc.spec?.replicas)),
    current: String(count(rc.status?.replicas)),
    ready: String(count(rc.status?.readyReplicas)),
    age: age(rc.metadata?.creationTimestamp, now),
    ...containerCells(rc.spec?.template?.spec?.containers),
    selector: selector || '<none>',
  };
}
