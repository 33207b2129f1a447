/**
 * Pure helpers about pods and owner references that every controller shares, after
 * Kubernetes' `pkg/api/v1/pod` and `pkg/controller/controller_utils.go`: readiness,
 * availability, activeness, controller references, and the order in which a controller
 * prefers to delete pods when it scales down.
 */
import type { KubeObject, OwnerReference, Pod } from '../api/types.js';

/** Milliseconds of a Kubernetes timestamp; undefined when absent or unparsable. */
export function timeMs(t: string | undefined | null): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A pod that still counts towards its controller: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** The pod's `Ready` condition is `True`. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** When the pod last became Ready (ms), if it is Ready. */
export function podReadyTime(pod: Pod): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  return c ? timeMs(c.lastTransitionTime) : undefined;
}

/**
 * Ready for at least `minReadySeconds` at `nowMs` (Kubernetes' `IsPodAvailable`): with
 * `minReadySeconds` 0 a ready pod is available at once.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadyTime(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** The owner reference with `controller: true`, if any. */
export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** The controller reference an owner puts on what it creates or adopts. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion, kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true,
  };
}

/** `namespace/name` of a namespaced object. */
export const keyOf = (obj: KubeObject): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

/** Splits a `namespace/name` key. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The highest restart count among the pod's containers. */
export function maxContainerRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
/** Annotation that lets users say which pods of a controller to delete first (lower first). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}

/** ⌊log2(now − t)⌋ in nanoseconds, −1 for t in the future: Kubernetes' logarithmic bucket. */
function logBucket(tMs: number, nowMs: number): number {
  const dNanos = (nowMs - tMs) * 1e6;
  return dNanos > 0 ? Math.floor(Math.log2(dNanos)) : -1;
}

/**
 * Compares two timestamps the way the scale-down order does: the newer first; with
 * `nowMs`, timestamps in the same power-of-two age bucket tie (then the uid decides), so
 * that pods of similar age are picked pseudo-randomly (Kubernetes' LogarithmicScaleDown).
 * A missing time counts as newest. Returns <0 when `a` goes first, >0 when `b` does, 0 on a tie.
 */
function compareTimes(a: number | undefined, b: number | undefined, nowMs: number | undefined, uidA: string, uidB: string): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (nowMs === undefined) return a > b ? -1 : 1;
  const diff = logBucket(a, nowMs) - logBucket(b, nowMs);
  if (diff !== 0) return diff;
  return uidA < uidB ? -1 : uidA > uidB ? 1 : 0;
}

/**
 * Sorts pods so that those a controller should delete first come first (Kubernetes'
 * `ActivePodsWithRanks`):
 * 1. unscheduled before scheduled; 2. Pending, then Unknown, then Running; 3. not ready before
 * ready; 4. lower `pod-deletion-cost` first; 5. more related pods on the same node first
 * (`rank`); 6. ready for less time first; 7. more container restarts first; 8. newer first.
 * Steps 6 and 8 compare ages in power-of-two buckets of `nowMs`, tied by uid.
 * Returns a new array; the input is not changed.
 */
export function sortPodsForDeletion<P extends Pod>(pods: readonly P[], rank: (p: P) => number, nowMs?: number): P[] {
  const cmp = (a: P, b: P): number => {
    const na = a.spec?.nodeName ?? '';
    const nb = b.spec?.nodeName ?? '';
    if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
    const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
    const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a);
    const rb = isPodReady(b);
    if (ra !== rb) return ra ? 1 : -1;
    const ca = deletionCost(a);
    const cb = deletionCost(b);
    if (ca !== cb) return ca - cb;
    const ka = rank(a);
    const kb = rank(b);
    if (ka !== kb) return kb - ka;
    const uidA = a.metadata?.uid ?? '';
    const uidB = b.metadata?.uid ?? '';
    if (ra && rb) {
      const t = compareTimes(podReadyTime(a), podReadyTime(b), nowMs, uidA, uidB);
      if (t !== 0) return t;
    }
    const xa = maxContainerRestarts(a);
    const xb = maxContainerRestarts(b);
    if (xa !== xb) return xb - xa;
    return compareTimes(timeMs(a.metadata?.creationTimestamp), timeMs(b.metadata?.creationTimestamp), nowMs, uidA, uidB);
  };
  return [...pods].sort(cmp);
}

/**
 * Runs `count` calls of `fn` in batches of 1, 2, 4, … (Kubernetes' `slowStartBatch`), so a
 * controller whose creates all fail (quota, a bad template) fails after one call instead of
 * hundreds. Stops after the first batch with a failure. Returns how many calls succeeded and
 * the first error, if any.
 */
export async function slowStartBatch(count: number, initialBatch: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatch); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, error: failed[0].reason };
    remaining -= batch;
  }
  return { successes };
}

/**
 * A canonical JSON text of plain data: object keys sorted, and `undefined`, `null`, empty
 * arrays and empty objects left out, so two objects that Kubernetes would call semantically
 * equal (nil and empty alike) print the same.
 */
export function canonicalJson(v: unknown): string {
  const prune = (x: unknown): unknown => {
    if (Array.isArray(x)) {
      const arr = x.map(prune).map((e) => (e === undefined ? null : e));
      return arr.length ? arr : undefined;
    }
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const p = prune((x as Record<string, unknown>)[k]);
        if (p !== undefined) out[k] = p;
      }
      return Object.keys(out).length ? out : undefined;
    }
    return x === null ? undefined : x;
  };
  return JSON.stringify(prune(v) ?? null);
}
