/**
 * The disruption controller (Kubernetes' `disruption` controller): resets the DisruptionTarget
 * condition of pods an eviction marked but did not delete, after 2 minutes, and keeps each
 * PodDisruptionBudget's status — `expectedPods`, `currentHealthy` (Ready pods not being
 * deleted), `desiredHealthy`, `disruptionsAllowed`, `observedGeneration` and the
 * `DisruptionAllowed` condition (SufficientPods / InsufficientPods / SyncFailed). Keys are
 * budget keys; a pod change queues the budgets of its namespace whose selector matches it.
 *
 * With `maxUnavailable` or a percentage `minAvailable`, the expected count is the sum of the
 * `spec.replicas` of the pods' controllers (a ReplicaSet's Deployment when it has one); a pod
 * without a controller makes that count unknown, so the budget allows no disruption (SyncFailed),
 * as in Kubernetes.
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import { findKind } from '../api/registry.js';
import type { KubeObject, OwnerReference, Pod } from '../api/types.js';
import { PDBS, PODS } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
import { scaledValue } from './deploymentutil.js';
import { controllerRef, isPodReady } from './podutil.js';
export { PDBS } from '../client/client.js';


type PDB = PodDisruptionBudget & KubeObject;
type PDBStatus = NonNullable<PodDisruptionBudget['status']>;

/** The pods of `pdb`'s namespace its selector matches (policy/v1: `{}` matches all, none matches none). */
export function podsOfBudget(pdb: PodDisruptionBudget, pods: readonly Pod[]): Pod[] {
  const sel = fromLabelSelector(pdb.spec?.selector);
  if (!sel.ok) return [];
  return pods.filter((p) => p.metadata?.namespace === pdb.metadata?.namespace && matches(sel.selector, p.metadata?.labels));
}

/** Whether the budget needs its pods' controllers' scale (`maxUnavailable`, or a percentage `minAvailable`). */
export const needsScale = (pdb: PodDisruptionBudget): boolean =>
  pdb.spec?.maxUnavailable !== undefined || typeof pdb.spec?.minAvailable === 'string';

/**
 * The pure part: the budget's new status from its pods and, when {@link needsScale}, the
 * expected scale (a string is why it is unknown). `now` stamps a changed condition.
 */
export function budgetStatus(pdb: PodDisruptionBudget, pods: readonly Pod[], scale: number | string, now: Date): PDBStatus {
  const old = pdb.status;
  const { disrupted } = disruptedPods(pdb, pods, now);
  const currentHealthy = pods.filter((p) => !p.metadata?.deletionTimestamp && !((p.metadata?.name ?? '') in disrupted) && isPodReady(p)).length;
  const condition = (status: 'True' | 'False', reason: string, message: string): Condition => {
    const prev = old?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const same = prev?.status === status && prev.reason === reason && prev.message === message;
    return { type: 'DisruptionAllowed', status, reason, message, observedGeneration: pdb.metadata?.generation,
      lastTransitionTime: same && prev?.lastTransitionTime ? prev.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z') };
  };
  const base = { observedGeneration: pdb.metadata?.generation, ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}) };
  if (needsScale(pdb) && typeof scale === 'string') {
    return { ...base, currentHealthy, desiredHealthy: old?.desiredHealthy ?? 0, expectedPods: old?.expectedPods ?? 0, disruptionsAllowed: 0,
      conditions: [condition('False', 'SyncFailed', scale)] };
  }
  const expectedScale = typeof scale === 'number' ? scale : 0;
  let expectedPods = 0;
  let desiredHealthy = 0;
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined) {
    expectedPods = expectedScale;
    desiredHealthy = Math.max(0, expectedPods - scaledValue(maxUnavailable, expectedPods, true));
  } else if (typeof minAvailable === 'number') {
    expectedPods = pods.length;
    desiredHealthy = minAvailable;
  } else if (typeof minAvailable === 'string') {
    expectedPods = expectedScale;
    desiredHealthy = scaledValue(minAvailable, expectedPods, true);
  }
  let disruptionsAllowed = currentHealthy - desiredHealthy;
  if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  return {
    ...base, currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed,
    conditions: [disruptionsAllowed > 0 ? condition('True', 'SufficientPods', '') : condition('False', 'InsufficientPods', '')],
  };
}

/** How long an eviction's `disruptedPods` entry holds before the pod counts again (Kubernetes' `DeletionTimeout`). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/**
 * `buildDisruptedPodMap`: the `disruptedPods` entries (written by the eviction subresource) that
 * still hold: the pod exists, is not being deleted yet, and its entry is younger than
 * {@link DELETION_TIMEOUT_MS}. `expired` names the pods whose deletion never came; `recheckAt`
 * is when the next kept entry runs out.
 */
export function disruptedPods(pdb: PodDisruptionBudget, pods: readonly Pod[], now: Date): { disrupted: Record<string, string>; expired: string[]; recheckAt?: number } {
  const old = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  const expired: string[] = [];
  let recheckAt: number | undefined;
  for (const p of pods) {
    const name = p.metadata?.name ?? '';
    const at = old[name];
    if (p.metadata?.deletionTimestamp || at === undefined) continue;
    const due = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (!(due > now.getTime())) {
      expired.push(name);
      continue;
    }
    disrupted[name] = at;
    recheckAt = recheckAt === undefined ? due : Math.min(recheckAt, due);
  }
  return { disrupted, expired, recheckAt };
}

/** How long a pod may carry DisruptionTarget=True without being deleted (Kubernetes' `stalePodDisruptionTimeout`). */
export const STALE_DISRUPTION_MS = 2 * 60 * 1000;

/**
 * For a pod not being deleted whose DisruptionTarget condition is True (an eviction that did not
 * end in a delete): ms until that condition is stale (≤ 0: now). Undefined: nothing to clean.
 */
export function staleDisruptionIn(pod: Pod, now: Date): number | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const c = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget' && x.status === 'True');
  if (!c) return undefined;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isNaN(since) ? 0 : since + STALE_DISRUPTION_MS - now.getTime();
}

const STALE_PREFIX = 'stale-pod:';

export class DisruptionController extends Controller {
  private readonly budgets = this.informer<PDB>(PDBS);
  private readonly pods = this.informer<Pod & KubeObject>(PODS);

  constructor(ctx: ControllerContext) {
    super('disruption-controller', ctx, { workers: 2, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.budgets.addHandlers(this.enqueueHandlers());
    const forPod = (p: Pod) => {
      for (const b of this.budgets.list()) if (podsOfBudget(b, [p]).length) this.enqueue(b);
    };
    // A pod left with DisruptionTarget=True (its eviction did not delete it) gets the condition reset once stale.
    const stale = (p: Pod & KubeObject) => {
      const due = staleDisruptionIn(p, this.clock());
      if (due !== undefined) this.queue.addAfter(`${STALE_PREFIX}${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, Math.max(0, due) + 100);
    };
    this.pods.addHandlers({ onAdd: (p) => { forPod(p); stale(p); }, onUpdate: (o, p) => { forPod(o); forPod(p); stale(p); }, onDelete: forPod });
  }

  /** `syncStalePodDisruption`: DisruptionTarget goes False on a pod its eviction left alive. */
  private async syncStalePod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod) return;
    const now = this.clock();
    const due = staleDisruptionIn(pod, now);
    if (due === undefined) return;
    if (due > 0) {
      this.queue.addAfter(`${STALE_PREFIX}${key}`, due + 100);
      return;
    }
    const at = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'DisruptionTarget' ? { type: c.type, status: 'False', lastTransitionTime: at } : c));
    await this.client.patch({ ...PODS, namespace: pod.metadata?.namespace }, pod.metadata?.name ?? '',
      { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status: { conditions } }, 'status');
  }

  /** The sum of the pods' controllers' `spec.replicas` (each controller once), or why it is unknown. */
  private async expectedScale(pods: readonly Pod[]): Promise<number | string> {
    const seen = new Map<string, number>();
    for (const p of pods) {
      let ref: OwnerReference | undefined = controllerRef(p);
      if (!ref) return `found no controller ref for pod "${p.metadata?.name ?? ''}"`;
      let owner = await this.owner(ref, p.metadata?.namespace ?? '');
      if (!owner) return `found no controllers for pod "${p.metadata?.name ?? ''}"`;
      // A ReplicaSet a Deployment controls: the Deployment's scale counts.
      const up = ref.kind === 'ReplicaSet' ? controllerRef(owner) : undefined;
      if (up?.kind === 'Deployment') {
        const d = await this.owner(up, p.metadata?.namespace ?? '');
        if (d) { ref = up; owner = d; }
      }
      const replicas = (owner as { spec?: { replicas?: number } }).spec?.replicas;
      if (typeof replicas !== 'number') return `controller ${ref.kind} "${ref.name}" has no scale`;
      seen.set(ref.uid, replicas);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  }

  private async owner(ref: OwnerReference, namespace: string): Promise<KubeObject | undefined> {
    const def = findKind(ref.apiVersion, ref.kind);
    if (!def) return undefined;
    try {
      const obj = await this.client.get({ group: def.group, version: def.version, resource: def.resource, namespace }, ref.name);
      return obj.metadata?.uid === ref.uid ? obj : undefined;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith(STALE_PREFIX)) {
      await this.syncStalePod(key.slice(STALE_PREFIX.length));
      return;
    }
    const pdb = this.budgets.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const pods = podsOfBudget(pdb, this.pods.list());
    const scale = needsScale(pdb) ? await this.expectedScale(pods) : 0;
    if (typeof scale === 'string') {
      void this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${scale}`);
    }
    const now = this.clock();
    const { expired, recheckAt } = disruptedPods(pdb, pods, now);
    for (const name of expired) {
      const pod = pods.find((p) => p.metadata?.name === name);
      if (pod) void this.recorder.event(pod as KubeObject, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata?.namespace ?? ''}/${pdb.metadata?.name ?? ''} to be deleted but it wasn't`);
    }
    if (recheckAt !== undefined) this.queue.addAfter(key, Math.max(0, recheckAt - now.getTime()) + 100);
    const status = budgetStatus(pdb, pods, scale, now);
    if (JSON.stringify(status) === JSON.stringify(pdb.status)) return;
    await this.client.updateStatus<PDB>({ ...PDBS, namespace: pdb.metadata?.namespace }, { ...pdb, status });
  }
}
