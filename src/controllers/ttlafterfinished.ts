/**
 * The TTL-after-finished controller (Kubernetes' `pkg/controller/ttlafterfinished`): deletes a
 * Job `ttlSecondsAfterFinished` seconds after it finished (its `Complete` or `Failed`
 * condition), with its pods (background propagation). Before deleting it re-reads the Job from
 * the server, so a TTL changed meanwhile is honoured, and deletes with its resourceVersion as precondition.
 */
import { ApiError } from '../api/errors.js';
import { Controller, type ControllerContext } from './base.js';
import { jobCondition } from './jobutil.js';
import { timeMs } from './podutil.js';
import { inNamespace, JOBS, type JobObject } from './types.js';

/** When a finished Job with a TTL expires (ms), or undefined (not finished, or no TTL). */
export function jobExpiresAt(job: JobObject): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata?.deletionTimestamp) return undefined;
  const done = jobCondition(job, 'Complete') ?? jobCondition(job, 'Failed');
  if (!done) return undefined;
  const finished = timeMs(job.status?.completionTime) ?? timeMs(done.lastTransitionTime);
  return finished === undefined ? undefined : finished + ttl * 1000;
}

export class TTLAfterFinishedController extends Controller {
  private readonly jobs;

  /** Workers default to Kubernetes' `--concurrent-ttl-after-finished-syncs` (5). */
  constructor(ctx: ControllerContext) {
    super('ttl-after-finished-controller', ctx, { workers: 5 });
    this.jobs = this.informer<JobObject>(JOBS);
    this.jobs.addHandlers({
      onAdd: (j) => { if (j.spec?.ttlSecondsAfterFinished !== undefined) this.enqueue(j); },
      onUpdate: (_o, j) => { if (j.spec?.ttlSecondsAfterFinished !== undefined) this.enqueue(j); },
    });
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached || jobExpiresAt(cached) === undefined) return;
    const ref = inNamespace(JOBS, cached.metadata?.namespace);
    let job: JobObject;
    try {
      job = await this.client.get<JobObject>(ref, cached.metadata?.name ?? '');
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
    const at = jobExpiresAt(job);
    if (at === undefined) return;
    const left = at - this.clock().getTime();
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    try {
      await this.client.delete(ref, job.metadata?.name ?? '', { propagationPolicy: 'Background', resourceVersion: job.metadata?.resourceVersion });
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }
}
