/**
 * The Deployment controller (Kubernetes' `pkg/controller/deployment`): rolls a Deployment's pods
 * from one template to the next through one ReplicaSet per template (named and labelled with
 * the template's `pod-template-hash`), honouring the strategy (RollingUpdate with maxSurge and
 * maxUnavailable, or Recreate), pausing, scaling, revision history and the progress deadline,
 * and reports status and conditions the way `kubectl rollout status` reads them.
 *
 * Flow (STYLE principles 1 and 4): informer handlers only enqueue Deployment keys; a worker
 * re-reads the caches, plans with the pure {@link planRollout} and performs the planned writes
 * in order. ReplicaSets are updated with the resourceVersion the plan was made from, so a plan
 * made from a stale cache fails with 409 and is made again rather than applied.
 *
 * Rollback (`kubectl rollout undo`) needs nothing here: the CLI copies the old ReplicaSet's
 * template into the Deployment, the planner finds that ReplicaSet as the "new" one and gives it
 * the next revision, keeping its earlier revisions in `deployment.kubernetes.io/revision-history`.
 */
import { ApiError } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KubeObject } from '../api/types.js';
import { PODS } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';
import { equalIgnoreHash, getCondition, hasProgressDeadline, newCondition, REASON, REVISION, setCondition } from './deploymentutil.js';
import { ControllerRefManager } from './refmanager.js';
import { canonicalJson, controllerRef, keyOf, splitKey } from './podutil.js';
import { planRollout, type RolloutAction, type RolloutPlan } from './rollout.js';
import {
  DEPLOYMENTS, REPLICASETS, inNamespace, type DeploymentObject, type DeploymentStatus, type PodObject, type ReplicaSetObject,
} from './types.js';

export { planRollout, type RolloutAction, type RolloutPlan } from './rollout.js';

export type DeploymentControllerOptions = ControllerContext;

const deploymentRef = (d: KubeObject): KubeObject => ({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: d.metadata });
const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;

export class DeploymentController extends Controller {
  private readonly dInformer: Informer<DeploymentObject>;
  private readonly rsInformer: Informer<ReplicaSetObject>;
  private readonly podInformer: Informer<PodObject>;

  /**
   * Workers default to Kubernetes' `--concurrent-deployment-syncs` (5). A conflict means a plan
   * was made from a stale cache: it is simply made again, without a log line.
   */
  constructor(opts: DeploymentControllerOptions) {
    super('deployment-controller', opts, { workers: 5, quiet: isConflict });
    this.dInformer = this.informer<DeploymentObject>(DEPLOYMENTS);
    this.rsInformer = this.informer<ReplicaSetObject>(REPLICASETS);
    this.podInformer = this.informer<PodObject>(PODS);
    this.dInformer.addHandlers(this.enqueueHandlers());
    this.rsInformer.addHandlers({
      onAdd: (rs) => this.addReplicaSet(rs),
      onUpdate: (old, rs) => this.updateReplicaSet(old, rs),
      onDelete: (rs) => this.enqueueOwner(rs),
    });
    this.podInformer.addHandlers({ onDelete: (p) => this.deletePod(p) });
  }

  // ---- event handlers: only work out which keys to enqueue ----------------------------------

  private resolve(namespace: string | undefined, ref: ReturnType<typeof controllerRef>): DeploymentObject | undefined {
    if (!ref || ref.kind !== 'Deployment' || !ref.apiVersion.startsWith('apps/')) return undefined;
    const d = this.dInformer.get(`${namespace}/${ref.name}`);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private enqueueOwner(rs: ReplicaSetObject): void {
    const d = this.resolve(rs.metadata?.namespace, controllerRef(rs));
    if (d) this.queue.add(keyOf(d));
  }

  private enqueueSelecting(rs: ReplicaSetObject): void {
    for (const d of this.dInformer.list()) {
      if (d.metadata?.namespace !== rs.metadata?.namespace) continue;
      const sel = fromLabelSelector(d.spec?.selector);
      if (sel.ok && matches(sel.selector, rs.metadata?.labels)) this.queue.add(keyOf(d));
    }
  }

  private addReplicaSet(rs: ReplicaSetObject): void {
    if (controllerRef(rs)) this.enqueueOwner(rs);
    else this.enqueueSelecting(rs);
  }

  private updateReplicaSet(old: ReplicaSetObject, cur: ReplicaSetObject): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const oldRef = controllerRef(old);
    const curRef = controllerRef(cur);
    const refChanged = oldRef?.uid !== curRef?.uid;
    if (refChanged && oldRef) this.enqueueOwner(old);
    if (curRef) this.enqueueOwner(cur);
    else if (refChanged || canonicalJson(old.metadata?.labels) !== canonicalJson(cur.metadata?.labels)) this.enqueueSelecting(cur);
  }

  /** Recreate waits for old pods to be gone: each pod that goes may let it proceed. */
  private deletePod(pod: PodObject): void {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.rsInformer.get(`${pod.metadata?.namespace}/${ref.name}`);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const d = this.resolve(rs.metadata?.namespace, controllerRef(rs));
    if (d && d.spec?.strategy?.type === 'Recreate') this.queue.add(keyOf(d));
  }

  // ---- the worker ---------------------------------------------------------------------------

  /** Syncs one Deployment by key. Idempotent; a thrown error requeues the key with back-off. */
  protected async sync(key: string): Promise<void> {
    const d = this.dInformer.get(key);
    if (!d) return;
    const { namespace } = splitKey(key);
    const sets = this.rsInformer.list().filter((rs) => rs.metadata?.namespace === namespace);
    const pods = this.podInformer.list().filter((p) => p.metadata?.namespace === namespace);
    const plan = planRollout(d, sets, pods, this.clock());
    if (plan.error) {
      await this.recorder.event(deploymentRef(d), 'Warning', 'InvalidSelector', plan.error);
      return;
    }
    if (plan.warning) void this.recorder.event(deploymentRef(d), 'Warning', plan.warning.reason, plan.warning.message);
    // Gone or going (the cache has not seen it yet): its deletion event comes.
    if (!(await this.claim(d, plan))) return;
    const done = await this.perform(d, plan.actions);
    if (!done) return;
    if (plan.revision !== undefined || plan.status) {
      // As in Kubernetes, the revision annotation goes through the status subresource, which
      // may change annotations: a main-resource write would bump the Deployment's generation.
      const metadata = plan.revision === undefined ? d.metadata : { ...d.metadata, annotations: { ...d.metadata?.annotations, [REVISION]: plan.revision } };
      await this.client.updateStatus<DeploymentObject>(inNamespace(DEPLOYMENTS, namespace), { ...d, metadata, status: plan.status ?? d.status });
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs);
  }

  /** Adopts and releases ReplicaSets; false when the Deployment is gone (see {@link ControllerRefManager}). */
  private claim(d: DeploymentObject, plan: RolloutPlan): Promise<boolean> {
    const owner = { ref: inNamespace(DEPLOYMENTS, d.metadata?.namespace), apiVersion: 'apps/v1', kind: 'Deployment' };
    return new ControllerRefManager(this.client, d, owner, inNamespace(REPLICASETS, d.metadata?.namespace)).claim(plan);
  }

  /**
   * Performs the planned ReplicaSet writes in order, each update carrying the resourceVersion
   * of the previous write to the same ReplicaSet. Returns false when the sync should stop
   * without writing status (the new ReplicaSet's name was taken).
   */
  private async perform(d: DeploymentObject, actions: readonly RolloutAction[]): Promise<boolean> {
    const ref = inNamespace(REPLICASETS, d.metadata?.namespace);
    const versions = new Map<string, string | undefined>();
    for (const a of actions) {
      if (a.type === 'createReplicaSet') {
        const name = a.rs.metadata?.name ?? '';
        let created: ReplicaSetObject;
        try {
          created = await this.client.create<ReplicaSetObject>(ref, a.rs);
        } catch (e) {
          if (e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists') return this.nameTaken(d, name);
          await this.createFailed(d, name, e);
          throw e;
        }
        versions.set(name, created.metadata?.resourceVersion);
        if (a.event) void this.recorder.event(deploymentRef(d), 'Normal', 'ScalingReplicaSet', a.event);
      } else if (a.type === 'updateReplicaSet') {
        const name = a.rs.metadata?.name ?? '';
        const rv = versions.has(name) ? versions.get(name) : a.rs.metadata?.resourceVersion;
        const updated = await this.client.update<ReplicaSetObject>(ref, { ...a.rs, metadata: { ...a.rs.metadata, resourceVersion: rv } });
        versions.set(name, updated.metadata?.resourceVersion);
        if (a.event) void this.recorder.event(deploymentRef(d), 'Normal', 'ScalingReplicaSet', a.event);
      } else {
        try {
          await this.client.request('DELETE', `/apis/apps/v1/namespaces/${encodeURIComponent(d.metadata?.namespace ?? '')}/replicasets/${encodeURIComponent(a.name)}`,
            { kind: 'DeleteOptions', apiVersion: 'v1', ...(a.uid ? { preconditions: { uid: a.uid } } : {}) });
        } catch (e) {
          if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
        }
      }
    }
    return true;
  }

  /**
   * The new ReplicaSet's name exists. If it is ours with this template, the cache was just
   * behind: sync again. Otherwise it is a hash collision: bump `status.collisionCount` so the
   * next hash differs (Kubernetes' collision avoidance), then sync again.
   */
  private async nameTaken(d: DeploymentObject, name: string): Promise<boolean> {
    const ref = inNamespace(REPLICASETS, d.metadata?.namespace);
    const existing = await this.client.get<ReplicaSetObject>(ref, name);
    if (controllerRef(existing)?.uid === d.metadata?.uid && equalIgnoreHash(existing.spec?.template, d.spec?.template)) {
      this.queue.add(keyOf(d));
      return false;
    }
    const status: DeploymentStatus = { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 };
    await this.client.updateStatus<DeploymentObject>(inNamespace(DEPLOYMENTS, d.metadata?.namespace), { ...d, status });
    throw new Error(`hash collision on ReplicaSet name ${name}; collisionCount is now ${status.collisionCount}`);
  }

  /** Reports a failed create: Progressing=False/ReplicaSetCreateError and a Warning event. */
  private async createFailed(d: DeploymentObject, name: string, e: unknown): Promise<void> {
    const msg = `Failed to create new replica set "${name}": ${(e as Error).message}`;
    void this.recorder.event(deploymentRef(d), 'Warning', REASON.failedRSCreate, msg);
    if (!hasProgressDeadline(d)) return;
    const status = structuredClone(d.status ?? {});
    setCondition(status, newCondition('Progressing', 'False', REASON.failedRSCreate, msg, this.clock().toISOString().replace(/\.\d+Z$/, 'Z')));
    if (canonicalJson(getCondition(status, 'Progressing')) === canonicalJson(getCondition(d.status, 'Progressing'))) return;
    try {
      await this.client.updateStatus<DeploymentObject>(inNamespace(DEPLOYMENTS, d.metadata?.namespace), { ...d, status });
    } catch (err) {
      this.log(`deployment-controller: ${keyOf(d)}: could not report the failed create: ${(err as Error).message}`);
    }
  }
}
