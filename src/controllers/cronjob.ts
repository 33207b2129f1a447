/**
 * The CronJob controller (Kubernetes' `cronjob_controllerv2.go`): creates a Job from the
 * CronJob's template at each schedule time (cron syntax or `@hourly`-style macros, in
 * `timeZone`), honouring `concurrencyPolicy`, `startingDeadlineSeconds`, `suspend` and the
 * history limits, and catching up after a control-plane restart as Kubernetes does (only the
 * most recent missed time runs). Its clock is the injected one, so tests drive time.
 *
 * Handlers only enqueue CronJob keys (Jobs map to their CronJob by controller reference); a
 * worker plans with the pure {@link planCronJob}, deletes and creates Jobs, writes the status,
 * and requeues the key for the next schedule time.
 */
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import { Controller, type ControllerContext } from './base.js';
import { planCronJob, withActiveJob } from './cronjobutil.js';
import { resolveOwner } from './ownedpods.js';
import { canonicalJson, controllerRef, keyOf, splitKey } from './podutil.js';
import { CRONJOBS, inNamespace, JOBS, type CronJobObject, type JobObject } from './types.js';

const cronRef = (cj: KubeObject): KubeObject => ({ kind: 'CronJob', apiVersion: 'batch/v1', metadata: cj.metadata });

export class CronJobController extends Controller {
  private readonly cronjobs;
  private readonly jobs;

  /** Workers default to Kubernetes' `--concurrent-cron-job-syncs` (5). */
  constructor(ctx: ControllerContext) {
    super('cronjob-controller', ctx, { workers: 5, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.cronjobs = this.informer<CronJobObject>(CRONJOBS);
    this.jobs = this.informer<JobObject>(JOBS);
    this.cronjobs.addHandlers(this.enqueueHandlers());
    const owner = (j: JobObject) => resolveOwner(this.cronjobs, 'CronJob', 'batch', j.metadata?.namespace, controllerRef(j));
    const enqueueOwner = (j: JobObject) => {
      const cj = owner(j);
      if (cj) this.enqueue(cj);
    };
    this.jobs.addHandlers({ onAdd: enqueueOwner, onUpdate: (_o, j) => enqueueOwner(j), onDelete: enqueueOwner });
  }

  protected async sync(key: string): Promise<void> {
    let cj = this.cronjobs.get(key);
    if (!cj) return;
    const { namespace, name } = splitKey(key);
    const uid = cj.metadata?.uid;
    const owned = this.jobs.list().filter((j) => j.metadata?.namespace === namespace && controllerRef(j)?.uid === uid);
    let plan = planCronJob(cj, owned, this.clock());
    if (plan.events.some((e) => e.reason === 'UnexpectedJob')) {
      // As Kubernetes does before that warning: re-read the CronJob, since the cache may not show
      // yet the status write that listed a Job this controller just created.
      const live = await this.client.get<CronJobObject>(inNamespace(CRONJOBS, namespace), name).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 404) return undefined;
        throw e;
      });
      if (!live || live.metadata?.uid !== uid) return;
      if (live.metadata?.resourceVersion !== cj.metadata?.resourceVersion) {
        cj = live;
        plan = planCronJob(live, owned, this.clock());
      }
    }
    const jobsRef = inNamespace(JOBS, namespace);
    for (const { job, reason } of plan.delete) {
      try {
        await this.client.delete(jobsRef, job.metadata?.name ?? '', { propagationPolicy: 'Background' });
        void this.recorder.event(cronRef(cj), 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name ?? ''}`);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) {
          void this.recorder.event(cronRef(cj), 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
          if (reason === 'replace') throw e;
        }
      }
    }
    let status = plan.status;
    if (plan.create) {
      try {
        const created = await this.client.create<JobObject>(jobsRef, plan.create);
        status = withActiveJob(status, created);
        void this.recorder.event(cronRef(cj), 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name ?? ''}`);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists')) {
          void this.recorder.event(cronRef(cj), 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
          throw e;
        }
        // Created by an earlier sync whose status write was lost: adopt it into the active list.
        const existing = await this.client.get<JobObject>(jobsRef, plan.create.metadata?.name ?? '');
        if (controllerRef(existing)?.uid === cj.metadata?.uid) status = withActiveJob(status, existing);
      }
    }
    for (const e of plan.events) void this.recorder.event(cronRef(cj), e.type, e.reason, e.message);
    if (canonicalJson(status) !== canonicalJson(cj.status ?? {})) {
      try {
        await this.client.updateStatus<CronJobObject>(inNamespace(CRONJOBS, namespace), { ...cj, status } as CronJob & KubeObject);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(keyOf(cj), plan.requeueAfterMs);
  }
}
