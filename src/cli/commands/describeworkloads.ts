/**
 * The text of `describe job|cronjob|daemonset|statefulset|replicationcontroller`, laid out as
 * kubectl lays it out (`pkg/describe/describe.go`: `JobDescriber`, `CronJobDescriber`,
 * `DaemonSetDescriber`, `StatefulSetDescriber`, `ReplicationControllerDescriber`). Pure functions of the objects, their pods' phase counts, events and
 * the current time.
 */
import type { DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Event } from '../../api/types.js';
import { formatLabelSelector } from '../../api/appsstatus.js';
import { humanDuration, podsStatusLine, type PodPhaseCounts } from '../../api/podstatus.js';
import { annotationsMultiline, describeEvents, describeTemplateInto, describeWorkloadConditions, multiline, Out, time } from './describers.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { formatLabels } from '../../api/labels.js';

/** kubectl's `Pods Statuses:` of a Job: `1 Active (1 Ready) / 2 Succeeded / 0 Failed`. */
function jobPodsStatuses(job: Job): string {
  const s = job.status ?? {};
  return `${s.active ?? 0} Active (${s.ready ?? 0} Ready) / ${s.succeeded ?? 0} Succeeded / ${s.failed ?? 0} Failed`;
}

export function describeJob(job: Job, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = job.metadata ?? {};
  const spec = job.spec;
  const st = job.status ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `Selector:\t${formatLabelSelector(spec?.selector)}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  const controller = (m.ownerReferences ?? []).find((o) => o.controller);
  if (controller) out.w(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  out.w(0, `Parallelism:\t${spec?.parallelism ?? '<unset>'}\n`);
  out.w(0, `Completions:\t${spec?.completions ?? '<unset>'}\n`);
  out.w(0, `Completion Mode:\t${spec?.completionMode ?? 'NonIndexed'}\n`);
  out.w(0, `Suspend:\t${spec?.suspend ? 'true' : 'false'}\n`);
  if (spec?.backoffLimit !== undefined) out.w(0, `Backoff Limit:\t${spec.backoffLimit}\n`);
  if (spec?.backoffLimitPerIndex !== undefined) out.w(0, `Backoff Limit Per Index:\t${spec.backoffLimitPerIndex}\n`);
  if (spec?.maxFailedIndexes !== undefined) out.w(0, `Max Failed Indexes:\t${spec.maxFailedIndexes}\n`);
  if (spec?.ttlSecondsAfterFinished !== undefined) out.w(0, `TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}\n`);
  if (st.startTime) out.w(0, `Start Time:\t${time(st.startTime)}\n`);
  if (st.completionTime) out.w(0, `Completed At:\t${time(st.completionTime)}\n`);
  if (st.startTime && st.completionTime) out.w(0, `Duration:\t${humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}\n`);
  if (spec?.activeDeadlineSeconds !== undefined) out.w(0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
  out.w(0, `Pods Statuses:\t${jobPodsStatuses(job)}\n`);
  if (spec?.completionMode === 'Indexed') {
    out.w(0, `Completed Indexes:\t${st.completedIndexes || '<none>'}\n`);
    if (spec.backoffLimitPerIndex !== undefined) out.w(0, `Failed Indexes:\t${st.failedIndexes || '<none>'}\n`);
  }
  describeTemplateInto(out, spec?.template);
  describeEvents(out, events, now);
  return out.toString();
}

export function describeCronJob(cj: CronJob, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = cj.metadata ?? {};
  const spec = cj.spec;
  const js = spec?.jobTemplate?.spec;
  const unset = (v: unknown) => (v === undefined || v === null ? '<unset>' : String(v));
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `Schedule:\t${spec?.schedule ?? ''}\n`);
  if (spec?.timeZone) out.w(0, `Time Zone:\t${spec.timeZone}\n`);
  out.w(0, `Concurrency Policy:\t${spec?.concurrencyPolicy ?? ''}\n`);
  out.w(0, `Suspend:\t${spec?.suspend ? 'True' : 'False'}\n`);
  out.w(0, `Successful Job History Limit:\t${unset(spec?.successfulJobsHistoryLimit)}\n`);
  out.w(0, `Failed Job History Limit:\t${unset(spec?.failedJobsHistoryLimit)}\n`);
  out.w(0, `Starting Deadline Seconds:\t${spec?.startingDeadlineSeconds !== undefined ? `${spec.startingDeadlineSeconds}s` : '<unset>'}\n`);
  out.w(0, `Selector:\t${js?.selector ? formatLabelSelector(js.selector) : '<unset>'}\n`);
  out.w(0, `Parallelism:\t${unset(js?.parallelism)}\n`);
  out.w(0, `Completions:\t${unset(js?.completions)}\n`);
  if (js?.activeDeadlineSeconds !== undefined) out.w(0, `Active Deadline Seconds:\t${js.activeDeadlineSeconds}s\n`);
  describeTemplateInto(out, js?.template);
  out.w(0, `Last Schedule Time:\t${cj.status?.lastScheduleTime ? time(cj.status.lastScheduleTime) : '<unset>'}\n`);
  const active = (cj.status?.active ?? []).map((r) => r.name).join(', ');
  out.w(0, `Active Jobs:\t${active || '<none>'}\n`);
  describeEvents(out, events, now);
  return out.toString();
}

export function describeDaemonSet(ds: DaemonSet, pods: PodPhaseCounts, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = ds.metadata ?? {};
  const st = ds.status;
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `Selector:\t${formatLabelSelector(ds.spec?.selector)}\n`);
  const ns = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(',');
  out.w(0, `Node-Selector:\t${ns || '<none>'}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `Desired Number of Nodes Scheduled: ${st?.desiredNumberScheduled ?? 0}\n`);
  out.w(0, `Current Number of Nodes Scheduled: ${st?.currentNumberScheduled ?? 0}\n`);
  out.w(0, `Number of Nodes Scheduled with Up-to-date Pods: ${st?.updatedNumberScheduled ?? 0}\n`);
  out.w(0, `Number of Nodes Scheduled with Available Pods: ${st?.numberAvailable ?? 0}\n`);
  out.w(0, `Number of Nodes Misscheduled: ${st?.numberMisscheduled ?? 0}\n`);
  out.w(0, `Pods Status:\t${podsStatusLine(pods)}\n`);
  describeTemplateInto(out, ds.spec?.template);
  describeEvents(out, events, now);
  return out.toString();
}

export function describeStatefulSet(ss: StatefulSet, pods: PodPhaseCounts, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = ss.metadata ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `CreationTimestamp:\t${time(m.creationTimestamp)}\n`);
  out.w(0, `Selector:\t${formatLabelSelector(ss.spec?.selector)}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `Replicas:\t${ss.spec?.replicas ?? 1} desired | ${ss.status?.replicas ?? 0} total\n`);
  const strategy = ss.spec?.updateStrategy;
  out.w(0, `Update Strategy:\t${strategy?.type ?? 'RollingUpdate'}\n`);
  if (strategy?.rollingUpdate?.partition !== undefined) out.w(1, `Partition:\t${strategy.rollingUpdate.partition}\n`);
  out.w(0, `Pods Status:\t${podsStatusLine(pods)}\n`);
  describeTemplateInto(out, ss.spec?.template);
  const claims = ss.spec?.volumeClaimTemplates ?? [];
  out.w(0, `Volume Claims:${claims.length ? '' : '\t<none>'}\n`);
  // kubectl's describeVolumeClaimTemplates: labels and annotations indented under each claim.
  const indented = (title: string, values: Record<string, string> | undefined) => {
    const keys = Object.keys(values ?? {}).sort();
    out.w(1, `${title}:\t${keys.length ? '' : '<none>\n'}`);
    keys.forEach((k, i) => out.w(0, `${i ? '  \t' : ''}${k}=${values?.[k] ?? ''}\n`));
  };
  for (const c of claims) {
    out.w(1, `Name:\t${c.metadata?.name ?? ''}\n`);
    out.w(1, `StorageClass:\t${c.spec?.storageClassName ?? ''}\n`);
    indented('Labels', c.metadata?.labels);
    indented('Annotations', c.metadata?.annotations);
    const storage = c.spec?.resources?.requests?.storage;
    out.w(1, `Capacity:\t${storage === undefined ? '<default>' : String(storage)}\n`);
    out.w(1, `Access Modes:\t[${(c.spec?.accessModes ?? []).join(' ')}]\n`);
  }
  describeEvents(out, events, now);
  return out.toString();
}

/** kubectl's `describeReplicationController`: like a ReplicaSet's, with a map selector. */
export function describeReplicationController(rc: ReplicationController, pods: PodPhaseCounts, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = rc.metadata ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `Selector:\t${formatLabels(rc.spec?.selector)}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `Replicas:\t${rc.status?.replicas ?? 0} current / ${rc.spec?.replicas ?? 1} desired\n`);
  out.w(0, `Pods Status:\t${podsStatusLine(pods)}\n`);
  describeTemplateInto(out, rc.spec?.template);
  describeWorkloadConditions(out, rc.status?.conditions);
  describeEvents(out, events, now);
  return out.toString();
}

