/**
 * Pure helpers of the Deployment controller, after Kubernetes'
 * `pkg/controller/deployment/util/deployment_util.go`: the pod-template hash, revision and
 * replica annotations, surge/unavailable arithmetic, conditions, and ReplicaSet orderings.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { canonicalJson, timeMs } from './podutil.js';
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from './types.js';

/** Label that tells the ReplicaSets (and pods) of one Deployment's templates apart. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Longest `revision-history` annotation kept (Kubernetes' `maxRevHistoryLengthInChars`). */
export const MAX_REVISION_HISTORY_CHARS = 2000;

/** Condition reasons, spelled as Kubernetes (and `kubectl rollout status`) spell them. */
export const REASON = {
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  failedRSCreate: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** Annotations a Deployment does not pass on to its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits, over UTF-8 bytes, continuing from `h`. */
function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The `pod-template-hash` of a template: FNV-32a of its canonical JSON (and the collision
 * count, as little-endian uint32), printed in decimal and spelled with Kubernetes'
 * vowel-free alphabet (`SafeEncodeString`), e.g. `5d8f7b9c6`. Stable across processes;
 * the hash label itself is left out, so a ReplicaSet's template hashes like its Deployment's.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const t = stripHashLabel(template);
  let h = fnv32a(new TextEncoder().encode(canonicalJson(t)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return [...String(h)].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

/** A copy of the template without the `pod-template-hash` label. */
export function stripHashLabel(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    const { [POD_TEMPLATE_HASH]: _hash, ...rest } = t.metadata.labels;
    t.metadata.labels = rest;
  }
  return t;
}

/** Whether two templates are the same apart from the `pod-template-hash` label (`EqualIgnoreHash`). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(stripHashLabel(a)) === canonicalJson(stripHashLabel(b));
}

export const deploymentReplicas = (d: Deployment): number => d.spec?.replicas ?? 1;
export const rsReplicas = (rs: ReplicaSet): number => rs.spec?.replicas ?? 1;
const isRollingUpdate = (d: Deployment): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/**
 * An int-or-percent scaled against `total` (`GetScaledValueFromIntOrPercent`): `'25%'` of 10 is
 * 3 rounding up, 2 rounding down. A malformed string counts as 0.
 */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return /^\d+$/.test(v) ? Number(v) : 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * maxSurge and maxUnavailable as pod counts for `desired` replicas (`ResolveFenceposts`): surge
 * rounds up, unavailable rounds down, and if both come out 0, unavailable is 1 so that a
 * rollout can make progress.
 */
export function resolveFenceposts(d: Deployment, desired: number): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru?.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** Pods the rollout may create above `replicas` (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d, deploymentReplicas(d)).surge : 0;
}

/** Pods that may be unavailable during the rollout (0 for Recreate), at most `replicas`. */
export function maxUnavailable(d: Deployment): number {
  const replicas = deploymentReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d, replicas).unavailable, replicas);
}

/** The revision annotation as a number (0 when absent or malformed). */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const v = obj.metadata?.annotations?.[REVISION];
  return v && /^\d+$/.test(v) ? Number(v) : 0;
}

export const maxRevision = (sets: readonly ReplicaSet[]): number => Math.max(0, ...sets.map(revisionOf));

/** Sum of `spec.replicas`. */
export const specReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs ? rsReplicas(rs) : 0), 0);
/** Sum of `status.replicas`. */
export const actualReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
export const readyReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
export const availableReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);

/** ReplicaSets that have (or should have) pods. */
export const activeSets = <R extends ReplicaSet>(sets: readonly (R | undefined)[]): R[] =>
  sets.filter((rs): rs is R => !!rs && rsReplicas(rs) > 0);

const created = (rs: ReplicaSet): number => timeMs(rs.metadata?.creationTimestamp) ?? 0;
/** Older first, then by name (`ReplicaSetsByCreationTimestamp`). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}
/** Larger first; equal sizes older first (`ReplicaSetsBySizeOlder`). */
export const bySizeOlder = (a: ReplicaSet, b: ReplicaSet): number => rsReplicas(b) - rsReplicas(a) || byCreation(a, b);
/** Larger first; equal sizes newer first (`ReplicaSetsBySizeNewer`). */
export const bySizeNewer = (a: ReplicaSet, b: ReplicaSet): number => rsReplicas(b) - rsReplicas(a) || byCreation(b, a);
/** Lower revision first, then older (`ReplicaSetsByRevision`). */
export const byRevision = (a: ReplicaSet, b: ReplicaSet): number => revisionOf(a) - revisionOf(b) || byCreation(a, b);

/**
 * Copies the Deployment's annotations onto the ReplicaSet (all but the controller's own),
 * gives it `newRevision` if that is higher than its own, and on such a bump of an existing
 * revision (a rollback to this template) appends the old revision to `revision-history`.
 * A ReplicaSet about to be created also gets the replica annotations. Mutates `rs`; returns
 * whether anything changed (`SetNewReplicaSetAnnotations`).
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const meta = (rs.metadata ??= {});
  const ann = (meta.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (NOT_COPIED.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const oldRaw = ann[REVISION];
  if (oldRaw !== undefined && !/^\d+$/.test(oldRaw)) return changed;
  const oldRevision = oldRaw === undefined ? 0 : Number(oldRaw);
  if (oldRevision < newRevision) {
    ann[REVISION] = String(newRevision);
    changed = true;
    if (oldRaw !== undefined) {
      const history = ann[REVISION_HISTORY] ? ann[REVISION_HISTORY].split(',') : [];
      history.push(oldRaw);
      while (history.join(',').length > MAX_REVISION_HISTORY_CHARS && history.length > 1) history.shift();
      ann[REVISION_HISTORY] = history.join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, deploymentReplicas(d), deploymentReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

/** Sets `desired-replicas` and `max-replicas`; returns whether they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  if (ann[DESIRED_REPLICAS] !== String(desired)) { ann[DESIRED_REPLICAS] = String(desired); changed = true; }
  if (ann[MAX_REPLICAS] !== String(max)) { ann[MAX_REPLICAS] = String(max); changed = true; }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = rs.metadata?.annotations ?? {};
  return ann[DESIRED_REPLICAS] !== String(desired) || ann[MAX_REPLICAS] !== String(max);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}
export const desiredReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, DESIRED_REPLICAS);
export const maxReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, MAX_REPLICAS);

/** The condition of `type`, if present. */
export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A new condition stamped `now` (`NewDeploymentCondition`). */
export function newCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: string): DeploymentCondition {
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/**
 * Sets a condition (`SetDeploymentCondition`): nothing changes if one with the same status and
 * reason exists; a same-status update keeps the old `lastTransitionTime`. Mutates `status`.
 */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = cur && cur.status === cond.status ? { ...cond, lastTransitionTime: cur.lastTransitionTime } : cond;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** A progress deadline is set (and not the "infinite" MaxInt32). */
export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== 2147483647;
}

/** Every replica is updated and available, and the newest spec has been observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = deploymentReplicas(d);
  return (status.updatedReplicas ?? 0) === replicas && (status.replicas ?? 0) === replicas
    && (status.availableReplicas ?? 0) === replicas && (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** The new status shows progress over the Deployment's current one (`DeploymentProgressing`). */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
    || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** The Progressing condition is older than the deadline (`DeploymentTimedOut`). */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond) return false;
  if (cond.reason === REASON.newRSAvailable) return false;
  if (cond.reason === REASON.timedOut) return true;
  const from = timeMs(cond.lastUpdateTime);
  return from !== undefined && from + (d.spec?.progressDeadlineSeconds ?? 600) * 1000 < nowMs;
}
