/**
 * The StatefulSet controller (Kubernetes' `pkg/controller/statefulset`): stable pods
 * `<set>-0 … <set>-(N−1)` (from `ordinals.start`), with the governing service as subdomain,
 * created in order and each waited for until Running and Ready for `minReadySeconds`
 * (OrderedReady) or all at once (Parallel), scaled down from the highest ordinal, and updated
 * from the highest ordinal down to `partition` (RollingUpdate) or on deletion (OnDelete), each
 * template kept as a ControllerRevision.
 *
 * Handlers only enqueue StatefulSet keys; a worker syncs the history, plans with the pure
 * {@link planStatefulSet} and carries it out, recording creations and deletions as expectations.
 */
import { ApiError } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KubeObject } from '../api/types.js';
import { PODS, PVCS } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
import { Expectations } from './expectations.js';
import { CONTROLLER_REVISION_HASH, planHistory, RevisionHistory, templateOfRevision, type ControllerRevisionObject } from './history.js';
import { ownedPodHandlers, resolveOwner } from './ownedpods.js';
import { canonicalJson, controllerRef, keyOf, splitKey } from './podutil.js';
import { ControllerRefManager } from './refmanager.js';
import { claimNotUsable, claimOwnerReferences, claimsFor, isCondemned, ordinalOf, planStatefulSet, statefulPodFor, type ClaimObject } from './statefulsetutil.js';
import { CONTROLLERREVISIONS, inNamespace, STATEFULSETS, type PodObject, type StatefulSetObject } from './types.js';

const ssRef = (ss: KubeObject): KubeObject => ({ kind: 'StatefulSet', apiVersion: 'apps/v1', metadata: ss.metadata });

export class StatefulSetController extends Controller {
  readonly expectations: Expectations;
  private readonly sets;
  private readonly pods;
  private readonly revisions;
  private readonly claims;
  private readonly history: RevisionHistory;

  /** Workers default to Kubernetes' `--concurrent-statefulset-syncs` (5). */
  constructor(ctx: ControllerContext) {
    super('statefulset-controller', ctx, { workers: 5, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.expectations = new Expectations(this.clock);
    this.history = new RevisionHistory(this.client);
    this.sets = this.informer<StatefulSetObject>(STATEFULSETS);
    this.pods = this.informer<PodObject>(PODS);
    this.revisions = this.informer<ControllerRevisionObject>(CONTROLLERREVISIONS);
    this.sets.addHandlers(this.enqueueHandlers((ss) => this.expectations.delete(keyOf(ss))));
    this.pods.addHandlers(ownedPodHandlers<StatefulSetObject>({
      kind: 'StatefulSet', group: 'apps', owners: this.sets, expectations: this.expectations, enqueue: (k) => this.enqueue(k),
      selecting: (pod) => this.sets.list().filter((ss) => ss.metadata?.namespace === pod.metadata?.namespace && this.selects(ss, pod)),
      onOwnedUpdate: (_o, cur, ss) => {
        const minReady = ss.spec?.minReadySeconds ?? 0;
        if (minReady > 0 && cur.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) this.queue.addAfter(keyOf(ss), minReady * 1000 + 100);
      },
    }));
    const byRevision = (r: ControllerRevisionObject) => {
      const ss = resolveOwner(this.sets, 'StatefulSet', 'apps', r.metadata?.namespace, controllerRef(r));
      if (ss) this.enqueue(ss);
    };
    this.revisions.addHandlers({ onAdd: byRevision, onUpdate: (_o, r) => byRevision(r), onDelete: byRevision });
    // A pod waits for a stale or terminating claim of its name to go away: its deletion wakes the set.
    this.claims = this.informer<ClaimObject>(PVCS);
    this.claims.addHandlers({
      onDelete: (c) => {
        const ns = c.metadata?.namespace;
        for (const ss of this.sets.list()) {
          if (ss.metadata?.namespace !== ns) continue;
          const prefixes = (ss.spec?.volumeClaimTemplates ?? []).map((t) => `${t.metadata?.name ?? ''}-${ss.metadata?.name ?? ''}-`);
          if (prefixes.some((p) => (c.metadata?.name ?? '').startsWith(p))) this.enqueue(ss);
        }
      },
    });
  }

  /**
   * Puts the owner references the retention policy wants on the claims of the set's live pods
   * (the pod's own reference once it is scaled away with whenScaled=Delete). Claims not in the
   * cache yet are left for a later sync.
   */
  private async syncClaimOwners(ss: StatefulSetObject, pods: readonly PodObject[]): Promise<void> {
    if (!(ss.spec?.volumeClaimTemplates ?? []).length) return;
    const namespace = ss.metadata?.namespace ?? '';
    for (const pod of pods) {
      const ordinal = ordinalOf(ss.metadata?.name ?? '', pod.metadata?.name ?? '');
      if (ordinal === undefined || pod.metadata?.deletionTimestamp) continue;
      for (const want of claimsFor(ss, ordinal).values()) {
        const claim = this.claims.get(keyOf(want));
        if (!claim || claim.metadata?.deletionTimestamp) continue;
        const current = claim.metadata?.ownerReferences ?? [];
        const refs = claimOwnerReferences(current, ss, pod, isCondemned(ss, ordinal));
        if (canonicalJson(refs) === canonicalJson(current)) continue;
        await this.client.patch<ClaimObject>(inNamespace(PVCS, namespace), claim.metadata?.name ?? '', {
          metadata: { ownerReferences: refs, resourceVersion: claim.metadata?.resourceVersion },
        });
      }
    }
  }

  /**
   * Creates the claims of the pod of `ordinal` that do not exist (`createPersistentVolumeClaims`).
   * Returns why the pod must wait instead (a claim being deleted, or still owned by an earlier pod).
   */
  private async createClaims(ss: StatefulSetObject, ordinal: number, podName: string): Promise<string | undefined> {
    const namespace = ss.metadata?.namespace ?? '';
    for (const claim of claimsFor(ss, ordinal).values()) {
      const name = claim.metadata?.name ?? '';
      const existing = this.claims.get(keyOf(claim));
      if (existing) {
        const why = claimNotUsable(existing, podName);
        if (why) return why;
        continue;
      }
      try {
        await this.client.create<ClaimObject>(inNamespace(PVCS, namespace), claim);
        void this.recorder.event(ssRef(ss), 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${ss.metadata?.name ?? ''} success`);
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) continue;
        void this.recorder.event(ssRef(ss), 'Warning', 'FailedCreate',
          `create Claim ${name} for Pod ${podName} in StatefulSet ${ss.metadata?.name ?? ''} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
    return undefined;
  }

  private selects(ss: StatefulSetObject, pod: PodObject): boolean {
    const sel = fromLabelSelector(ss.spec?.selector);
    return sel.ok && !sel.selector.nothing && sel.selector.requirements.length > 0 && matches(sel.selector, pod.metadata?.labels);
  }

  protected async sync(key: string): Promise<void> {
    const ss = this.sets.get(key);
    if (!ss) {
      this.expectations.delete(key);
      return;
    }
    const { namespace } = splitKey(key);
    const name = ss.metadata?.name ?? '';
    const uid = ss.metadata?.uid;
    const deleting = !!ss.metadata?.deletionTimestamp;
    const inNs = this.pods.list().filter((p) => p.metadata?.namespace === namespace);
    const adopt = deleting ? [] : inNs.filter((p) => !controllerRef(p) && !p.metadata?.deletionTimestamp && this.selects(ss, p));
    const release = deleting ? [] : inNs.filter((p) => controllerRef(p)?.uid === uid && !this.selects(ss, p));
    if (adopt.length || release.length) {
      await new ControllerRefManager(this.client, ss, { ref: inNamespace(STATEFULSETS, namespace), apiVersion: 'apps/v1', kind: 'StatefulSet' }, inNamespace(PODS, namespace))
        .claim({ adopt, release });
      return;
    }
    if (deleting) return;
    const owned = inNs.filter((p) => controllerRef(p)?.uid === uid);
    const prefix = `${name}-`;
    const inUse = new Set(owned.map((p) => (p.metadata?.labels?.[CONTROLLER_REVISION_HASH] ?? '').slice(prefix.length)));
    const revisions = RevisionHistory.owned(this.revisions.list(), ss);
    const hist = planHistory(ss, 'StatefulSet', ss.spec?.template, revisions, ss.spec?.revisionHistoryLimit ?? 10, inUse);
    if (hist.create || hist.renumber || hist.delete.length) await this.history.apply(hist);
    const update = `${prefix}${hist.hash}`;
    const currentName = ss.status?.currentRevision && revisions.some((r) => r.metadata?.name === ss.status?.currentRevision) ? ss.status.currentRevision : update;
    const currentRevision = revisions.find((r) => r.metadata?.name === currentName);
    const plan = planStatefulSet(ss, owned, { current: currentName, update }, this.clock(), this.expectations.satisfied(key));
    const podsRef = inNamespace(PODS, namespace);
    await this.syncClaimOwners(ss, owned);
    if (plan.delete.length) {
      this.expectations.expectDeletions(key, plan.delete.map(keyOf));
      for (const pod of plan.delete) {
        try {
          await this.client.delete(podsRef, pod.metadata?.name ?? '');
          void this.recorder.event(ssRef(ss), 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name ?? ''} in StatefulSet ${name} successful`);
        } catch (e) {
          this.expectations.deletionObserved(key, keyOf(pod));
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    if (plan.create.length) {
      this.expectations.expectCreations(key, plan.create.length);
      for (const c of plan.create) {
        const useCurrent = c.revision === 'current' && currentRevision;
        const template = useCurrent ? templateOfRevision(currentRevision) : ss.spec?.template;
        const pod = statefulPodFor(ss, template, c.ordinal, useCurrent ? currentName : update);
        const wait = await this.createClaims(ss, c.ordinal, pod.metadata?.name ?? '').catch((e: unknown) => {
          this.expectations.creationObserved(key);
          throw e;
        });
        if (wait) {
          // Woken by the claim's deletion (see the claim handler).
          this.expectations.creationObserved(key);
          this.log(`statefulset ${key}: pod ${pod.metadata?.name ?? ''} waits: ${wait}`);
          continue;
        }
        try {
          await this.client.create<PodObject>(podsRef, pod);
          void this.recorder.event(ssRef(ss), 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata?.name ?? ''} in StatefulSet ${name} successful`);
        } catch (e) {
          this.expectations.creationObserved(key);
          if (e instanceof ApiError && e.code === 409) continue;
          void this.recorder.event(ssRef(ss), 'Warning', 'FailedCreate', `create Pod ${pod.metadata?.name ?? ''} in StatefulSet ${name} failed error: ${(e as Error).message}`);
          throw e;
        }
      }
    }
    if (canonicalJson(plan.status) !== canonicalJson(ss.status ?? {})) {
      try {
        await this.client.updateStatus(inNamespace(STATEFULSETS, namespace), { ...ss, status: plan.status });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs + 100);
  }
}
