/**
 * The disruption controller (Kubernetes' `disruption` controller): keeps each
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
  const currentHealthy = pods.filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p)).length;
  const condition = (status: 'True' | 'False', reason: string, message: string): Condition => {
    const prev = old?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const same = prev?.status === status && prev.reason === reason && prev.message === message;
    return { type: 'DisruptionAllowed', status, reason, message, observedGeneration: pdb.metadata?.generation,
      lastTransitionTime: same && prev?.lastTransitionTime ? prev.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z') };
  };
  const base = { observedGeneration: pdb.metadata?.generation, disruptedPods: old?.disruptedPods };
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

export class DisruptionController extends Controller {
  private readonly budgets = this.informer<PDB>(PDBS);
  private readonly pods = this.informer<Pod & KubeObject>(PODS);

  constructor(ctx: ControllerContext) {
    super('disruption-controller', ctx, { workers: 2, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.budgets.addHandlers(this.enqueueHandlers());
    const forPod = (p: Pod) => {
      for (const b of this.budgets.list()) if (podsOfBudget(b, [p]).length) this.enqueue(b);
    };
    this.pods.addHandlers({ onAdd: forPod, onUpdate: (o, p) => { forPod(o); forPod(p); }, onDelete: forPod });
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
    const pdb = this.budgets.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const pods = podsOfBudget(pdb, this.pods.list());
    const scale = needsScale(pdb) ? await this.expectedScale(pods) : 0;
    if (typeof scale === 'string') {
      void this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${scale}`);
    }
    const status = budgetStatus(pdb, pods, scale, this.clock());
    if (JSON.stringify(status) === JSON.stringify(pdb.status)) return;
    await this.client.updateStatus<PDB>({ ...PDBS, namespace: pdb.metadata?.namespace }, { ...pdb, status });
  }
}
