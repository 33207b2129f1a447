/**
 * The `pods/eviction` subresource (Kubernetes' `pkg/registry/core/pod/storage/eviction.go`):
 * a POSTed `policy/v1` (or `policy/v1beta1`) Eviction deletes the pod, with the Eviction's
 * `deleteOptions`, unless that would violate the pod's PodDisruptionBudget.
 *
 * - Pods that are Pending, Succeeded, Failed or already being deleted are deleted at once (they
 *   are no disruption); a running pod is deleted with a resourceVersion precondition, so it
 *   cannot turn Ready between the decision and the delete.
 * - A pod no budget selects (a budget with an empty selector selects nothing here) is deleted.
 * - More than one budget: 500, "This pod has more than one PodDisruptionBudget, which the
 *   eviction subresource does not support." (Kubernetes answers so, as a Status).
 * - One budget: a not-Ready pod is deleted without touching the budget when the budget is
 *   healthy (currentHealthy ≥ desiredHealthy > 0) or its `unhealthyPodEvictionPolicy` is
 *   AlwaysAllow; otherwise the budget must allow a disruption: its status is observed for its
 *   generation and `disruptionsAllowed` > 0, else 429 TooManyRequests "Cannot evict pod as it
 *   would violate the pod's disruption budget." with a `DisruptionBudget` cause. When allowed,
 *   `disruptionsAllowed` is decremented and the pod recorded in `disruptedPods` (the disruption
 *   controller stops counting it healthy) in one status write; conflicts retry.
 * - Before the delete the pod gets the `DisruptionTarget` condition (reason
 *   EvictionByEvictionAPI). Success answers 201 with a Success Status.
 *
 * The decisions are pure functions ({@link canIgnoreBudget}, {@link budgetsForPod},
 * {@link decrementBudget}); {@link evictPod} carries them out against an {@link EvictionStore}.
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError, badRequest, type StatusReason } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KubeObject, Pod, PodCondition, Status } from '../api/types.js';
import type { DeleteOptions } from './rest.js';

export type Budget = PodDisruptionBudget & KubeObject;

export const EVICTION_API_VERSIONS = ['policy/v1', 'policy/v1beta1'];
/** How many times a conflicting budget write is retried (Kubernetes' `EvictionsRetry`: 5 steps). */
const RETRIES = 5;
/** Kubernetes' `MaxDisruptedPodSize`. */
const MAX_DISRUPTED_PODS = 2000;
export const TOO_MANY_REQUESTS_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";
export const MULTIPLE_BUDGETS_MESSAGE = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

/** An error whose Status is given whole (a 429 with a `DisruptionBudget` cause, which no field error expresses). */
export class StatusError extends ApiError {
  constructor(private readonly status: Status) {
    super(status.code ?? 500, (status.reason ?? 'InternalError') as StatusReason, status.message ?? '');
  }

  override toStatus(): Status {
    return this.status;
  }
}

/** 429 TooManyRequests as the eviction REST words it, with its `DisruptionBudget` cause. */
export function tooManyRequests(cause: string): StatusError {
  return new StatusError({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: TOO_MANY_REQUESTS_MESSAGE, reason: 'TooManyRequests',
    details: { causes: [{ reason: 'DisruptionBudget', message: cause }] }, code: 429,
  });
}

/** The Eviction in a POST body: 400 unless it is an Eviction for `name` in `namespace`. */
export function parseEviction(body: Record<string, unknown>, namespace: string, name: string): { deleteOptions: Record<string, unknown> | undefined } {
  if (body.kind !== undefined && body.kind !== 'Eviction') {
    throw badRequest(`${String(body.kind)} in version ${JSON.stringify(body.apiVersion ?? '')} cannot be handled as a Eviction: the kind of the object does not match the endpoint`);
  }
  if (body.apiVersion !== undefined && !EVICTION_API_VERSIONS.includes(String(body.apiVersion))) {
    throw badRequest(`no kind "Eviction" is registered for version ${JSON.stringify(body.apiVersion)}`);
  }
  const meta = (body.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  if (typeof meta !== 'object' || meta === null) throw badRequest('metadata: expected an object');
  if (meta.name !== name) throw badRequest('name in URL does not match name in Eviction object');
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const d = body.deleteOptions;
  if (d !== undefined && d !== null && (typeof d !== 'object' || Array.isArray(d))) throw badRequest('deleteOptions: expected an object');
  return { deleteOptions: (d ?? undefined) as Record<string, unknown> | undefined };
}

/** A pod whose eviction is no disruption: not started, finished, or already going (`canIgnorePDB`). */
export function canIgnoreBudget(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** Whether the delete must be pinned to the pod's resourceVersion (`shouldEnforceResourceVersion`). */
export function enforceResourceVersion(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

/** The budgets of the pod's namespace that select it; a missing, empty or invalid selector selects nothing. */
export function budgetsForPod(pod: Pod, budgets: readonly Budget[]): Budget[] {
  return budgets.filter((b) => {
    if (b.metadata?.namespace !== pod.metadata?.namespace) return false;
    const sel = fromLabelSelector(b.spec?.selector);
    if (!sel.ok || sel.selector.nothing || sel.selector.requirements.length === 0) return false;
    return matches(sel.selector, pod.metadata?.labels);
  });
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * Whether a not-Ready pod may go without using up the budget: its policy is AlwaysAllow, or
 * the budget is currently met (the unready pod does not count towards it).
 */
export function unhealthyMayGo(pod: Pod, pdb: Budget): boolean {
  if (isReady(pod)) return false;
  if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const st = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  return (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0;
}

/**
 * `checkAndDecrement`: the budget with one disruption used for `podName` at `now`, or the
 * refusal (429 while the budget is not observed yet or allows none, 403 when it is corrupt).
 * `dryRun`: decremented but without the `disruptedPods` entry (nothing is written).
 */
export function decrementBudget(pdb: Budget, podName: string, now: Date, dryRun = false): Budget {
  const name = pdb.metadata?.name ?? '';
  const st = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  if ((st.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`);
  const forbid = (why: string) => new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${name}" is forbidden: ${why}`, [], { name, group: 'policy', kind: 'poddisruptionbudgets' });
  if (st.disruptionsAllowed < 0) throw forbid('pdb disruptions allowed is negative');
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) throw forbid('DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (st.disruptionsAllowed === 0) {
    throw tooManyRequests(`The disruption budget ${name} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently`);
  }
  const status = { ...st, disruptionsAllowed: st.disruptionsAllowed - 1 };
  if (status.disruptionsAllowed === 0) {
    // `UpdateDisruptionAllowedCondition`: no disruption left.
    const prev = st.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const cond = { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: pdb.metadata?.generation };
    const lastTransitionTime = prev?.status === 'False' && prev.lastTransitionTime ? prev.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    status.conditions = [...(st.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed'), { ...cond, lastTransitionTime }];
  }
  if (!dryRun) status.disruptedPods = { ...(st.disruptedPods ?? {}), [podName]: now.toISOString().replace(/\.\d+Z$/, 'Z') };
  return { ...pdb, status };
}

/** The pod's conditions with `DisruptionTarget` set (reason EvictionByEvictionAPI). */
export function withDisruptionTarget(conditions: readonly PodCondition[], now: Date): PodCondition[] {
  const cond: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
  const prev = conditions.find((c) => c.type === 'DisruptionTarget');
  const lastTransitionTime = prev?.status === 'True' && prev.lastTransitionTime ? prev.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
  return [...conditions.filter((c) => c.type !== 'DisruptionTarget'), { ...cond, lastTransitionTime }];
}

/** What {@link evictPod} needs from the API server's storage. Errors are ApiErrors (404, 409, …). */
export interface EvictionStore {
  getPod(): Promise<Pod & KubeObject>;
  listBudgets(): Promise<Budget[]>;
  getBudget(name: string): Promise<Budget>;
  /** Writes the budget's status, failing with 409 when its resourceVersion is stale. */
  updateBudgetStatus(pdb: Budget): Promise<void>;
  /**
   * Sets the pod's DisruptionTarget condition after checking `preconditions` on the latest pod
   * (409 when they fail); resolves to the updated pod.
   */
  markDisruptionTarget(preconditions: DeleteOptions['preconditions']): Promise<KubeObject>;
  deletePod(options: DeleteOptions): Promise<void>;
  now(): Date;
}

/** The outcome: 201 Success, or a Status to answer with (the multiple-budget 500). */
export type EvictionResult = { evicted: true } | { evicted: false; status: Status };

const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;

/**
 * Evicts the pod as Kubernetes' EvictionREST.Create does. `options` are the Eviction's
 * deleteOptions; `dryRun` decides and validates but writes nothing. Throws ApiErrors (404 for
 * a missing pod, 429 for the budget, 409 when a precondition the client gave fails).
 */
export async function evictPod(store: EvictionStore, options: DeleteOptions, dryRun: boolean): Promise<EvictionResult> {
  const clientRV = options.preconditions?.resourceVersion;
  const remove = async (opts: DeleteOptions) => {
    if (!dryRun) {
      const marked = await store.markDisruptionTarget(opts.preconditions);
      // We changed the pod: a resourceVersion precondition moves to our own write.
      if (opts.preconditions?.resourceVersion) opts = { ...opts, preconditions: { ...opts.preconditions, resourceVersion: marked.metadata?.resourceVersion } };
    }
    await store.deletePod(opts);
  };

  // Pods whose eviction is no disruption go at once; a conflict re-reads (unless the client pinned a version).
  let pod: Pod & KubeObject | undefined;
  for (let attempt = 0; ; attempt++) {
    pod = await store.getPod();
    if (!canIgnoreBudget(pod)) break;
    const opts = enforceResourceVersion(pod) && !clientRV
      ? { ...options, preconditions: { ...options.preconditions, resourceVersion: pod.metadata?.resourceVersion } } : options;
    try {
      await remove(opts);
      return { evicted: true };
    } catch (e) {
      if (!isConflict(e) || clientRV || attempt + 1 >= RETRIES) throw e;
    }
  }

  const budgets = budgetsForPod(pod, await store.listBudgets());
  if (budgets.length > 1) {
    return { evicted: false, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: MULTIPLE_BUDGETS_MESSAGE, code: 500 } };
  }
  let pinned = false;
  if (budgets.length === 1) {
    let pdb = budgets[0];
    const name = pdb.metadata?.name ?? '';
    if (unhealthyMayGo(pod, pdb)) {
      pinned = true;
    } else {
      for (let attempt = 0; ; attempt++) {
        try {
          const next = decrementBudget(pdb, pod.metadata?.name ?? '', store.now(), dryRun);
          if (!dryRun) await store.updateBudgetStatus(next);
          break;
        } catch (e) {
          if (!isConflict(e)) throw e;
          if (attempt + 1 >= RETRIES) throw new ApiError(504, 'Timeout', `couldn't update PodDisruptionBudget "${name}" due to conflicts`);
          pdb = await store.getBudget(name);
        }
      }
    }
  }
  const opts = pinned && !clientRV ? { ...options, preconditions: { ...options.preconditions, resourceVersion: pod.metadata?.resourceVersion } } : options;
  try {
    await remove(opts);
  } catch (e) {
    // The unready pod changed (maybe turned Ready) since we decided: the client should try again.
    if (isConflict(e) && pinned && !clientRV) throw tooManyRequests(`The disruption budget ${budgets[0].metadata?.name ?? ''} is still being processed by the server.`);
    throw e;
  }
  return { evicted: true };
}
