/**
 * The DaemonSet controller (Kubernetes' `pkg/controller/daemon`): one pod per eligible node —
 * eligibility from the scheduler's own NodeAffinity and TaintToleration filters, with the
 * default DaemonSet tolerations — new nodes get one, pods on nodes that stopped qualifying
 * go; template changes roll out per `updateStrategy` (RollingUpdate with maxUnavailable or
 * maxSurge, or OnDelete), each template kept as a ControllerRevision for `rollout undo`.
 *
 * Handlers only enqueue DaemonSet keys (a node change enqueues every DaemonSet); a worker
 * syncs the history, plans with the pure {@link planDaemonSet} and carries it out, recording
 * creations and deletions as expectations.
 */
import { ApiError } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KubeObject } from '../api/types.js';
import { NODES, PODS } from '../client/client.js';
import { DEPRECATED_TEMPLATE_GENERATION } from '../api/workloadsdefaults.js';
import { Controller, type ControllerContext } from './base.js';
import { daemonPodFor, planDaemonSet } from './daemonsetutil.js';
import { Expectations } from './expectations.js';
import { CONTROLLER_REVISION_HASH, planHistory, RevisionHistory, type ControllerRevisionObject } from './history.js';
import { ownedPodHandlers, resolveOwner } from './ownedpods.js';
import { canonicalJson, controllerRef, keyOf, slowStartBatch, splitKey } from './podutil.js';
import { ControllerRefManager } from './refmanager.js';
import { CONTROLLERREVISIONS, DAEMONSETS, inNamespace, type DaemonSetObject, type NodeObject, type PodObject } from './types.js';

const dsRef = (ds: KubeObject): KubeObject => ({ kind: 'DaemonSet', apiVersion: 'apps/v1', metadata: ds.metadata });

export class DaemonSetController extends Controller {
  readonly expectations: Expectations;
  private readonly sets;
  private readonly nodes;
  private readonly pods;
  private readonly revisions;
  private readonly history: RevisionHistory;

  /** Workers default to Kubernetes' `--concurrent-daemonset-syncs` (2). */
  constructor(ctx: ControllerContext) {
    super('daemonset-controller', ctx, { workers: 2, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.expectations = new Expectations(this.clock);
    this.history = new RevisionHistory(this.client);
    this.sets = this.informer<DaemonSetObject>(DAEMONSETS);
    this.nodes = this.informer<NodeObject>(NODES);
    this.pods = this.informer<PodObject>(PODS);
    this.revisions = this.informer<ControllerRevisionObject>(CONTROLLERREVISIONS);
    this.sets.addHandlers(this.enqueueHandlers((ds) => this.expectations.delete(keyOf(ds))));
    const all = () => { for (const ds of this.sets.list()) this.enqueue(ds); };
    this.nodes.addHandlers({
      onAdd: all,
      onUpdate: (o, n) => {
        const relevant = (x: NodeObject) => canonicalJson([x.metadata?.labels, x.spec?.taints, x.spec?.unschedulable,
          x.status?.conditions?.find((c) => c.type === 'Ready')?.status]);
        if (relevant(o) !== relevant(n)) all();
      },
      onDelete: all,
    });
    this.pods.addHandlers(ownedPodHandlers<DaemonSetObject>({
      kind: 'DaemonSet', group: 'apps', owners: this.sets, expectations: this.expectations, enqueue: (k) => this.enqueue(k),
      selecting: (pod) => this.sets.list().filter((ds) => ds.metadata?.namespace === pod.metadata?.namespace && this.selects(ds, pod)),
      onOwnedUpdate: (_o, cur, ds) => {
        const minReady = ds.spec?.minReadySeconds ?? 0;
        if (minReady > 0 && cur.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) this.queue.addAfter(keyOf(ds), minReady * 1000 + 100);
      },
    }));
    const byRevision = (r: ControllerRevisionObject) => {
      const ds = resolveOwner(this.sets, 'DaemonSet', 'apps', r.metadata?.namespace, controllerRef(r));
      if (ds) this.enqueue(ds);
    };
    this.revisions.addHandlers({ onAdd: byRevision, onUpdate: (_o, r) => byRevision(r), onDelete: byRevision });
  }

  private selects(ds: DaemonSetObject, pod: PodObject): boolean {
    const sel = fromLabelSelector(ds.spec?.selector);
    return sel.ok && !sel.selector.nothing && sel.selector.requirements.length > 0 && matches(sel.selector, pod.metadata?.labels);
  }

  protected async sync(key: string): Promise<void> {
    const ds = this.sets.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const { namespace } = splitKey(key);
    const uid = ds.metadata?.uid;
    const deleting = !!ds.metadata?.deletionTimestamp;
    const inNs = this.pods.list().filter((p) => p.metadata?.namespace === namespace);
    const adopt = deleting ? [] : inNs.filter((p) => !controllerRef(p) && !p.metadata?.deletionTimestamp && this.selects(ds, p));
    const release = deleting ? [] : inNs.filter((p) => controllerRef(p)?.uid === uid && !this.selects(ds, p));
    if (adopt.length || release.length) {
      await new ControllerRefManager(this.client, ds, { ref: inNamespace(DAEMONSETS, namespace), apiVersion: 'apps/v1', kind: 'DaemonSet' }, inNamespace(PODS, namespace))
        .claim({ adopt, release });
      return;
    }
    const owned = inNs.filter((p) => controllerRef(p)?.uid === uid);
    if (deleting) return;
    const inUse = new Set(owned.map((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH] ?? ''));
    const hist = planHistory(ds, 'DaemonSet', ds.spec?.template, RevisionHistory.owned(this.revisions.list(), ds), ds.spec?.revisionHistoryLimit ?? 10, inUse);
    if (hist.create || hist.renumber || hist.delete.length) await this.history.apply(hist);
    const plan = planDaemonSet(ds, this.nodes.list(), owned, hist.hash, this.clock(), this.expectations.satisfied(key));
    const podsRef = inNamespace(PODS, namespace);
    let failure: unknown;
    if (plan.delete.length) {
      this.expectations.expectDeletions(key, plan.delete.map(keyOf));
      const results = await Promise.allSettled(plan.delete.map(async (pod) => {
        try {
          await this.client.delete(podsRef, pod.metadata?.name ?? '');
          void this.recorder.event(dsRef(ds), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name ?? ''}`);
        } catch (e) {
          this.expectations.deletionObserved(key, keyOf(pod));
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }));
      failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }
    if (plan.create.length) {
      this.expectations.expectCreations(key, plan.create.length);
      const nodes = [...plan.create];
      const generation = ds.metadata?.annotations?.[DEPRECATED_TEMPLATE_GENERATION] ?? String(ds.metadata?.generation ?? 1);
      const { successes, error } = await slowStartBatch(plan.create.length, 1, async () => {
        const node = nodes.shift() ?? '';
        try {
          const pod = await this.client.create<PodObject>(podsRef, daemonPodFor(ds, node, hist.hash, generation));
          void this.recorder.event(dsRef(ds), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (e) {
          void this.recorder.event(dsRef(ds), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      for (let i = successes; i < plan.create.length; i++) this.expectations.creationObserved(key);
      failure ??= error;
    }
    if (canonicalJson(plan.status) !== canonicalJson(ds.status ?? {})) {
      try {
        await this.client.updateStatus(inNamespace(DAEMONSETS, namespace), { ...ds, status: plan.status });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    if (failure) throw failure;
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs + 100);
  }
}
