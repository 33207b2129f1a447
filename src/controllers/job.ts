/**
 * The Job controller (Kubernetes' `pkg/controller/job`): runs a Job's pods to completion —
 * `parallelism` at a time until `completions` succeeded (or, per index, for Indexed Jobs) —
 * replaces failed pods after a back-off until `backoffLimit`, applies the pod failure and
 * success policies, `activeDeadlineSeconds` and `suspend`, and keeps the Job's status and
 * conditions as Kubernetes 1.32 does. Pods carry the `batch.kubernetes.io/job-tracking`
 * finalizer until they are counted.
 *
 * Handlers only enqueue Job keys; a worker re-reads the caches, claims pods (adopting orphans a
 * manual selector matches), plans with the pure {@link planJob} and carries the plan out:
 * interim status, finalizers, creates and deletes (recorded as expectations), final status.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import { ApiError } from '../api/errors.js';
import { JOB_TRACKING_FINALIZER } from '../api/batchdefaults.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KubeObject } from '../api/types.js';
import { PODS } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
import { Expectations } from './expectations.js';
import { jobPodFromTemplate, planJob, type JobPlan } from './jobutil.js';
import { ownedPodHandlers } from './ownedpods.js';
import { canonicalJson, controllerRef, keyOf, slowStartBatch, splitKey } from './podutil.js';
import { ControllerRefManager } from './refmanager.js';
import { inNamespace, JOBS, type JobObject, type PodObject } from './types.js';

/** Prefix of queue keys that stand for a pod whose Job is gone (its finalizer is released). */
const ORPHAN_POD = 'orphan-pod:';

export interface JobControllerOptions extends ControllerContext {
  /** First back-off before a failed pod is replaced (default 10 s). */
  podFailureBackoffMs?: number;
}

const jobRef = (job: KubeObject): KubeObject => ({ kind: 'Job', apiVersion: 'batch/v1', metadata: job.metadata });

export class JobController extends Controller {
  readonly expectations: Expectations;
  private readonly jobs;
  private readonly pods;
  /** Uids whose finalizer removal was sent but whose update the cache has not shown yet. */
  private readonly finalizerRemoved = new Set<string>();
  private readonly backoffMs?: number;

  /** Workers default to Kubernetes' `--concurrent-job-syncs` (5). */
  constructor(opts: JobControllerOptions) {
    super('job-controller', opts, { workers: 5, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.expectations = new Expectations(this.clock);
    this.backoffMs = opts.podFailureBackoffMs;
    this.jobs = this.informer<JobObject>(JOBS);
    this.pods = this.informer<PodObject>(PODS);
    this.jobs.addHandlers(this.enqueueHandlers((j) => this.expectations.delete(keyOf(j))));
    this.pods.addHandlers(ownedPodHandlers<JobObject>({
      kind: 'Job', group: 'batch', owners: this.jobs, expectations: this.expectations,
      enqueue: (k) => this.enqueue(k),
      selecting: (pod) => this.jobs.list().filter((j) => j.metadata?.namespace === pod.metadata?.namespace && this.selects(j, pod)),
      onOrphaned: (pod) => {
        if ((pod.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) this.enqueue(`${ORPHAN_POD}${keyOf(pod)}`);
      },
    }));
    this.pods.addHandlers({
      onUpdate: (_o, p) => {
        if (!(p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) this.finalizerRemoved.delete(p.metadata?.uid ?? '');
      },
      onDelete: (p) => this.finalizerRemoved.delete(p.metadata?.uid ?? ''),
    });
  }

  private selects(job: JobObject, pod: PodObject): boolean {
    const sel = fromLabelSelector(job.spec?.selector);
    return sel.ok && !sel.selector.nothing && matches(sel.selector, pod.metadata?.labels);
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith(ORPHAN_POD)) return this.releaseOrphan(key.slice(ORPHAN_POD.length));
    const job = this.jobs.get(key);
    if (!job) {
      this.expectations.delete(key);
      return;
    }
    const { namespace } = splitKey(key);
    const uid = job.metadata?.uid;
    const inNs = this.pods.list().filter((p) => p.metadata?.namespace === namespace);
    const deleting = !!job.metadata?.deletionTimestamp;
    // Claim: adopt orphans the selector matches, release owned pods it no longer matches.
    const adopt = deleting ? [] : inNs.filter((p) => !controllerRef(p) && (p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') && this.selects(job, p));
    const release = deleting ? [] : inNs.filter((p) => controllerRef(p)?.uid === uid && !this.selects(job, p));
    if (adopt.length || release.length) {
      const claimed = await new ControllerRefManager(this.client, job, { ref: inNamespace(JOBS, namespace), apiVersion: 'batch/v1', kind: 'Job' }, inNamespace(PODS, namespace))
        .claim({ adopt, release });
      if (!claimed) return;
      // The adopted pods come back through the watch; sync again then.
      return;
    }
    const owned = inNs.filter((p) => controllerRef(p)?.uid === uid);
    const plan = planJob(job, owned, this.clock(), {
      manage: this.expectations.satisfied(key) && !deleting,
      finalizerRemoved: this.finalizerRemoved,
      backoffBaseMs: this.backoffMs,
    });
    await this.carryOut(key, job, plan);
  }

  private async carryOut(key: string, job: JobObject, plan: JobPlan): Promise<void> {
    const ns = job.metadata?.namespace;
    let current: JobObject = job;
    if (plan.interimStatus) current = await this.writeStatus(current, plan.interimStatus);
    await Promise.all(plan.removeFinalizers.map((p) => this.removeFinalizer(p)));
    let failure: unknown;
    if (plan.delete.length) {
      this.expectations.expectDeletions(key, plan.delete.map(keyOf));
      const results = await Promise.allSettled(plan.delete.map(async (pod) => {
        try {
          await this.client.delete(inNamespace(PODS, ns), pod.metadata?.name ?? '');
          void this.recorder.event(jobRef(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name ?? ''}`);
        } catch (e) {
          this.expectations.deletionObserved(key, keyOf(pod));
          if (e instanceof ApiError && e.code === 404) return;
          void this.recorder.event(jobRef(job), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
          throw e;
        }
      }));
      failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }
    if (plan.create.length) {
      this.expectations.expectCreations(key, plan.create.length);
      const queue = [...plan.create];
      const { successes, error } = await slowStartBatch(plan.create.length, 1, async () => {
        const want = queue.shift() ?? {};
        try {
          const pod = await this.client.create<PodObject>(inNamespace(PODS, ns), jobPodFromTemplate(job, want));
          void this.recorder.event(jobRef(job), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (e) {
          void this.recorder.event(jobRef(job), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      for (let i = successes; i < plan.create.length; i++) this.expectations.creationObserved(key);
      failure ??= error;
    }
    await this.writeStatus(current, plan.status);
    for (const e of plan.events) void this.recorder.event(jobRef(job), e.type, e.reason, e.message);
    if (failure) throw failure;
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs + 50);
  }

  private async removeFinalizer(pod: PodObject): Promise<void> {
    const rest = (pod.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
    try {
      await this.client.patch(inNamespace(PODS, pod.metadata?.namespace), pod.metadata?.name ?? '', { metadata: { finalizers: rest.length ? rest : null } });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    this.finalizerRemoved.add(pod.metadata?.uid ?? '');
  }

  /** A pod whose Job is gone keeps no job-tracking finalizer (Kubernetes' orphan-pod cleanup). */
  private async releaseOrphan(podKey: string): Promise<void> {
    const pod = this.pods.get(podKey);
    if (!pod || !(pod.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) return;
    const ref = controllerRef(pod);
    const owner = ref ? this.jobs.get(`${pod.metadata?.namespace}/${ref.name}`) : undefined;
    if (owner && owner.metadata?.uid === ref?.uid) return;
    await this.removeFinalizer(pod);
  }

  private async writeStatus(job: JobObject, status: NonNullable<Job['status']>): Promise<JobObject> {
    if (canonicalJson(job.status ?? {}) === canonicalJson(status) && job.status?.ready === status.ready && job.status?.terminating === status.terminating) return job;
    try {
      return await this.client.updateStatus<JobObject>(inNamespace(JOBS, job.metadata?.namespace), { ...job, status });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return job;
      throw e;
    }
  }
}
