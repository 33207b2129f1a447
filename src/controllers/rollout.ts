/**
 * The Deployment controller's planner: one sync of a Deployment computed without I/O, as
 * Kubernetes' `syncDeployment` (sync.go, rolling.go, recreate.go, progress.go) would carry it
 * out. It works on copies of the Deployment and its ReplicaSets, applying each planned write to
 * the copies as the real controller would see the API server's answer, so later steps of the
 * same sync build on earlier ones exactly as in Kubernetes; the writes themselves come out as an
 * ordered list of actions for the controller to perform.
 */
import { fromLabelSelector, matches } from '../api/labels.js';
import type { Pod } from '../api/types.js';
import {
  activeSets, actualReplicas, availableReplicas, byCreation, byRevision, bySizeNewer, bySizeOlder, computeHash, deploymentComplete,
  deploymentProgressing, deploymentReplicas, deploymentTimedOut, desiredReplicasAnnotation, equalIgnoreHash, getCondition,
  hasProgressDeadline, maxReplicasAnnotation, maxRevision, maxSurge, maxUnavailable, newCondition, POD_TEMPLATE_HASH, REASON,
  readyReplicas, removeCondition, replicasAnnotationsNeedUpdate, REVISION, rsReplicas, setCondition, setNewReplicaSetAnnotations,
  setReplicasAnnotations, specReplicas,
} from './deploymentutil.js';
import { canonicalJson, controllerRef, newControllerRef, timeMs } from './podutil.js';
import type { Deployment, DeploymentStatus, ReplicaSet } from './types.js';

/** One write the controller performs, in order; `event` is recorded on the Deployment after it succeeds. */
export type RolloutAction =
  | { type: 'createReplicaSet'; rs: ReplicaSet; event?: string }
  | { type: 'updateReplicaSet'; rs: ReplicaSet; event?: string }
  | { type: 'deleteReplicaSet'; name: string; uid?: string };

export interface RolloutPlan {
  /** Set when the Deployment cannot be synced (a bad selector); nothing else is planned. */
  error?: string;
  /** A warning event to record (reason, message), e.g. for a selector that selects everything. */
  warning?: { reason: string; message: string };
  /** Orphan ReplicaSets the selector matches, to take ownership of. */
  adopt: ReplicaSet[];
  /** Owned ReplicaSets whose labels no longer match, to let go of. */
  release: ReplicaSet[];
  actions: RolloutAction[];
  /** The Deployment's new `deployment.kubernetes.io/revision`, when it changes. */
  revision?: string;
  /** The Deployment's new status, when it differs from the current one. */
  status?: DeploymentStatus;
  /** Sync again after this many ms to check the progress deadline. */
  requeueAfterMs?: number;
  /** Name of the ReplicaSet running the current template, if it exists or is being created. */
  newReplicaSet?: string;
}

/** Kubernetes' `integer.RoundToInt32`: halves away from zero. */
const round = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** Status with zero counts left out, as Kubernetes' JSON (omitempty) prints it. */
function compact(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const [k, v] of Object.entries(s) as [keyof DeploymentStatus, DeploymentStatus[keyof DeploymentStatus]][]) {
    if (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

const timestamp = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** The sync in progress: working copies and the actions so far. */
class Sync {
  readonly d: Deployment;
  readonly replicas: number;
  readonly nowMs: number;
  readonly now: string;
  readonly actions: RolloutAction[] = [];
  sets: ReplicaSet[];
  /** The ReplicaSet this sync creates, if any (its create action holds a snapshot). */
  private created?: { rs: ReplicaSet; action: { type: 'createReplicaSet'; rs: ReplicaSet; event?: string } };
  finalStatus?: DeploymentStatus;
  requeueAfterMs?: number;

  constructor(d: Deployment, sets: readonly ReplicaSet[], private readonly pods: readonly Pod[], now: Date) {
    this.d = structuredClone(d);
    this.d.status = structuredClone(d.status ?? {});
    this.replicas = deploymentReplicas(d);
    this.sets = sets.map((rs) => structuredClone(rs));
    this.nowMs = now.getTime();
    this.now = timestamp(now);
  }

  private get name(): string {
    return this.d.metadata?.name ?? '';
  }

  /** Records a write of `rs` (already changed in the working copy). */
  private write(rs: ReplicaSet, event?: string, specChanged = false): void {
    if (this.created?.rs === rs) {
      this.created.action.rs = snapshot(rs);
      return;
    }
    if (specChanged) rs.metadata = { ...rs.metadata, generation: (rs.metadata?.generation ?? 0) + 1 };
    this.actions.push({ type: 'updateReplicaSet', rs: snapshot(rs), ...(event ? { event } : {}) });
  }

  /** `scaleReplicaSet`: sets the size and the replica annotations; returns whether the size changed. */
  scaleTo(rs: ReplicaSet, size: number): boolean {
    const old = rsReplicas(rs);
    const max = this.replicas + maxSurge(this.d);
    const sizeChanged = old !== size;
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, this.replicas, max)) return false;
    rs.spec = { ...rs.spec, selector: rs.spec?.selector ?? {}, replicas: size };
    setReplicasAnnotations(rs, this.replicas, max);
    const event = sizeChanged ? `Scaled ${old < size ? 'up' : 'down'} replica set ${rs.metadata?.name ?? ''} from ${old} to ${size}` : undefined;
    this.write(rs, event, sizeChanged);
    return sizeChanged;
  }

  /** `scaleReplicaSetAndRecordEvent`: no write at all when the size is already right. */
  scale(rs: ReplicaSet, size: number): boolean {
    return rsReplicas(rs) === size ? false : this.scaleTo(rs, size);
  }

  /** `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (found or, if asked, created) and the old ones. */
  newAndOld(create: boolean): { newRS?: ReplicaSet; oldRSs: ReplicaSet[] } {
    const found = [...this.sets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, this.d.spec?.template));
    const oldRSs = this.sets.filter((rs) => rs !== found);
    return { newRS: this.newReplicaSet(found, oldRSs, create), oldRSs };
  }

  private setRevision(rev: string): void {
    const meta = (this.d.metadata ??= {});
    if (meta.annotations?.[REVISION] !== rev) meta.annotations = { ...meta.annotations, [REVISION]: rev };
  }

  private newReplicaSet(existing: ReplicaSet | undefined, oldRSs: ReplicaSet[], create: boolean): ReplicaSet | undefined {
    const newRevision = maxRevision(oldRSs) + 1;
    const status = this.d.status as DeploymentStatus;
    const minReady = this.d.spec?.minReadySeconds ?? 0;
    if (existing) {
      const annotationsChanged = setNewReplicaSetAnnotations(this.d, existing, newRevision, true);
      const minReadyChanged = (existing.spec?.minReadySeconds ?? 0) !== minReady;
      if (minReadyChanged) existing.spec = { ...existing.spec, selector: existing.spec?.selector ?? {}, minReadySeconds: minReady };
      if (annotationsChanged || minReadyChanged) this.write(existing, undefined, minReadyChanged);
      this.setRevision(existing.metadata?.annotations?.[REVISION] ?? String(newRevision));
      if (hasProgressDeadline(this.d) && !getCondition(status, 'Progressing')) {
        setCondition(status, newCondition('Progressing', 'True', REASON.foundNewRS, `Found new replica set "${existing.metadata?.name ?? ''}"`, this.now));
      }
      return existing;
    }
    if (!create) return undefined;
    const hash = computeHash(this.d.spec?.template, status.collisionCount);
    const template = structuredClone(this.d.spec?.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash } };
    const selector = structuredClone(this.d.spec?.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
    const name = `${this.name}-${hash}`;
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name, namespace: this.d.metadata?.namespace, labels: template.metadata.labels,
        ownerReferences: [newControllerRef(this.d, 'apps/v1', 'Deployment')],
        creationTimestamp: this.now,
      },
      spec: { replicas: 0, ...(minReady ? { minReadySeconds: minReady } : {}), selector, template },
    };
    const count = this.newReplicaSetReplicas([...oldRSs, rs], rs);
    (rs.spec as { replicas: number }).replicas = count;
    setNewReplicaSetAnnotations(this.d, rs, newRevision, false);
    const action = { type: 'createReplicaSet' as const, rs: snapshot(rs), ...(count > 0 ? { event: `Scaled up replica set ${name} from 0 to ${count}` } : {}) };
    this.actions.push(action);
    this.created = { rs, action };
    this.sets.push(rs);
    this.setRevision(String(newRevision));
    if (hasProgressDeadline(this.d)) {
      setCondition(status, newCondition('Progressing', 'True', REASON.newRSCreated, `Created new replica set "${name}"`, this.now));
    }
    return rs;
  }

  /** `NewRSNewReplicas`: how big the new ReplicaSet may be now. */
  newReplicaSetReplicas(all: readonly ReplicaSet[], newRS: ReplicaSet): number {
    if ((this.d.spec?.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return this.replicas;
    const maxTotal = this.replicas + maxSurge(this.d);
    const current = specReplicas(all);
    if (current >= maxTotal) return rsReplicas(newRS);
    return rsReplicas(newRS) + Math.min(maxTotal - current, this.replicas - rsReplicas(newRS));
  }

  // ---- rolling update (rolling.go) ---------------------------------------------------------

  rolling(): void {
    const { newRS, oldRSs } = this.newAndOld(true);
    const all = [...oldRSs, newRS as ReplicaSet];
    if (this.reconcileNew(all, newRS as ReplicaSet) || this.reconcileOld(all, activeSets(oldRSs), newRS as ReplicaSet)) {
      this.rolloutStatus(all, newRS);
      return;
    }
    if (deploymentComplete(this.d, this.d.status ?? {})) this.cleanup(oldRSs);
    this.rolloutStatus(all, newRS);
  }

  private reconcileNew(all: readonly ReplicaSet[], newRS: ReplicaSet): boolean {
    if (rsReplicas(newRS) === this.replicas) return false;
    if (rsReplicas(newRS) > this.replicas) return this.scale(newRS, this.replicas);
    return this.scale(newRS, this.newReplicaSetReplicas(all, newRS));
  }

  private reconcileOld(all: readonly ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): boolean {
    if (specReplicas(oldRSs) === 0) return false;
    const minAvailable = this.replicas - maxUnavailable(this.d);
    const newUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = specReplicas(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // A status that still counts more available pods than the spec allows was written before
    // the last scale-down: acting on it could take availability below the minimum. Kubernetes'
    // `cleanupUnhealthyReplicas` refuses such a scale ("invalid request to scale down") and the
    // sync is retried; here nothing is scaled down, and the status update re-queues the sync.
    if (oldRSs.some((rs) => rsReplicas(rs) > 0 && (rs.status?.availableReplicas ?? 0) > rsReplicas(rs))) return false;
    const cleaned = this.cleanupUnhealthy(oldRSs, maxScaledDown);
    const scaledDown = this.scaleDownOld([...oldRSs, newRS], oldRSs);
    return cleaned + scaledDown > 0;
  }

  /** Scales down old ReplicaSets' unavailable pods first: they cost no availability. */
  private cleanupUnhealthy(oldRSs: ReplicaSet[], maxCleanup: number): number {
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= maxCleanup) break;
      const size = rsReplicas(rs);
      const available = rs.status?.availableReplicas ?? 0;
      if (size === 0 || size === available) continue;
      const n = Math.min(maxCleanup - total, size - available);
      this.scale(rs, size - n);
      total += n;
    }
    return total;
  }

  /** Scales down old ReplicaSets, oldest first, as far as availability allows. */
  private scaleDownOld(all: readonly ReplicaSet[], oldRSs: ReplicaSet[]): number {
    const minAvailable = this.replicas - maxUnavailable(this.d);
    const available = availableReplicas(all);
    if (available <= minAvailable) return 0;
    const target = available - minAvailable;
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= target) break;
      const size = rsReplicas(rs);
      if (size === 0) continue;
      const n = Math.min(size, target - total);
      this.scale(rs, size - n);
      total += n;
    }
    return total;
  }

  // ---- recreate (recreate.go) --------------------------------------------------------------

  recreate(): void {
    let { newRS, oldRSs } = this.newAndOld(false);
    let all = [...oldRSs, ...(newRS ? [newRS] : [])];
    let scaledDown = false;
    for (const rs of activeSets(oldRSs)) if (this.scale(rs, 0)) scaledDown = true;
    if (scaledDown || this.oldPodsRunning(newRS, oldRSs)) {
      this.rolloutStatus(all, newRS);
      return;
    }
    if (!newRS) {
      ({ newRS, oldRSs } = this.newAndOld(true));
      all = [...oldRSs, newRS as ReplicaSet];
    }
    this.scale(newRS as ReplicaSet, this.replicas);
    if (deploymentComplete(this.d, this.d.status ?? {})) this.cleanup(oldRSs);
    this.rolloutStatus(all, newRS);
  }

  /** Old ReplicaSets still report pods, or pods they own are not finished (terminating ones count). */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
    if (actualReplicas(oldRSs) > 0) return true;
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata?.uid).filter((u) => u && u !== newRS?.metadata?.uid));
    return this.pods.some((p) => {
      const owner = controllerRef(p)?.uid;
      const phase = p.status?.phase;
      return !!owner && oldUids.has(owner) && phase !== 'Failed' && phase !== 'Succeeded';
    });
  }

  // ---- scaling and pausing (sync.go) -------------------------------------------------------

  /** `sync`: scale only (paused, or the replica count changed); no rollout progress. */
  scaleOnly(): void {
    const { newRS, oldRSs } = this.newAndOld(false);
    this.proportionalScale(newRS, oldRSs);
    if (this.d.spec?.paused) this.cleanup(oldRSs);
    this.finalStatus = this.calculateStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  /** `isScalingEvent`: some active ReplicaSet was sized for a different replica count. */
  isScalingEvent(): boolean {
    const { newRS, oldRSs } = this.newAndOld(false);
    return activeSets([...oldRSs, newRS]).some((rs) => {
      const desired = desiredReplicasAnnotation(rs);
      return desired !== undefined && desired !== this.replicas;
    });
  }

  private proportionalScale(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): void {
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (rsReplicas(activeOrLatest) !== this.replicas) this.scale(activeOrLatest, this.replicas);
      return;
    }
    if (newRS && desiredReplicasAnnotation(newRS) === this.replicas && rsReplicas(newRS) === this.replicas
      && (newRS.status?.availableReplicas ?? 0) === this.replicas) {
      for (const rs of activeSets(oldRSs)) this.scale(rs, 0);
      return;
    }
    if ((this.d.spec?.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return;
    const all = activeSets([...oldRSs, newRS]);
    const allowed = this.replicas > 0 ? this.replicas + maxSurge(this.d) : 0;
    const toAdd = allowed - specReplicas(all);
    if (toAdd > 0) all.sort(bySizeNewer);
    else if (toAdd < 0) all.sort(bySizeOlder);
    let added = 0;
    const sizes = all.map((rs) => {
      if (toAdd === 0) return rsReplicas(rs);
      const p = this.proportion(rs, toAdd, added);
      added += p;
      return rsReplicas(rs) + p;
    });
    all.forEach((rs, i) => {
      let size = sizes[i];
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      this.scaleTo(rs, size);
    });
  }

  /** `GetReplicaSetProportion`: this ReplicaSet's share of the replicas being added or removed. */
  private proportion(rs: ReplicaSet, toAdd: number, added: number): number {
    if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    let fraction: number;
    if (this.replicas === 0) fraction = -rsReplicas(rs);
    else {
      const annotated = maxReplicasAnnotation(rs) ?? this.d.status?.replicas ?? 0;
      fraction = annotated === 0 ? 0 : round((rsReplicas(rs) * (this.replicas + maxSurge(this.d))) / annotated) - rsReplicas(rs);
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** `checkPausedConditions`: Progressing=Unknown with DeploymentPaused/DeploymentResumed. */
  pausedConditions(): void {
    if (!hasProgressDeadline(this.d)) return;
    const status = this.d.status as DeploymentStatus;
    const cond = getCondition(status, 'Progressing');
    if (cond?.reason === REASON.timedOut) return;
    const pausedShown = cond?.reason === REASON.paused;
    if (this.d.spec?.paused && !pausedShown) {
      setCondition(status, newCondition('Progressing', 'Unknown', REASON.paused, 'Deployment is paused', this.now));
    } else if (!this.d.spec?.paused && pausedShown) {
      setCondition(status, newCondition('Progressing', 'Unknown', REASON.resumed, 'Deployment is resumed', this.now));
    }
  }

  /** `cleanupDeployment`: deletes the oldest empty old ReplicaSets beyond `revisionHistoryLimit`. */
  cleanup(oldRSs: readonly ReplicaSet[]): void {
    const limit = this.d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === 2147483647) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    for (const rs of [...cleanable].sort(byRevision).slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0) continue;
      if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      this.actions.push({ type: 'deleteReplicaSet', name: rs.metadata?.name ?? '', uid: rs.metadata?.uid });
    }
  }

  // ---- status (sync.go calculateStatus, progress.go) ----------------------------------------

  calculateStatus(all: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const cur = this.d.status ?? {};
    const available = availableReplicas(all);
    const status: DeploymentStatus = {
      observedGeneration: this.d.metadata?.generation,
      replicas: actualReplicas(all),
      updatedReplicas: actualReplicas([newRS]),
      readyReplicas: readyReplicas(all),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, specReplicas(all) - available),
      ...(cur.collisionCount !== undefined ? { collisionCount: cur.collisionCount } : {}),
      ...(cur.conditions ? { conditions: cur.conditions.map((c) => ({ ...c })) } : {}),
    };
    if (available >= this.replicas - maxUnavailable(this.d)) {
      setCondition(status, newCondition('Available', 'True', REASON.minimumAvailable, 'Deployment has minimum availability.', this.now));
    } else {
      setCondition(status, newCondition('Available', 'False', REASON.minimumUnavailable, 'Deployment does not have minimum availability.', this.now));
    }
    return status;
  }

  /** `syncRolloutStatus`: counts plus the Progressing condition and the progress-deadline requeue. */
  rolloutStatus(all: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): void {
    const status = this.calculateStatus(all, newRS);
    const pd = hasProgressDeadline(this.d);
    if (!pd) removeCondition(status, 'Progressing');
    const current = getCondition(this.d.status, 'Progressing');
    const complete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === REASON.newRSAvailable;
    const what = newRS ? `ReplicaSet "${newRS.metadata?.name ?? ''}"` : `Deployment "${this.name}"`;
    if (pd && !complete) {
      if (deploymentComplete(this.d, status)) {
        setCondition(status, newCondition('Progressing', 'True', REASON.newRSAvailable, `${what} has successfully progressed.`, this.now));
      } else if (deploymentProgressing(this.d, status)) {
        const cond = newCondition('Progressing', 'True', REASON.rsUpdated, `${what} is progressing.`, this.now);
        // Progress moves lastUpdateTime even when the reason stays; lastTransitionTime stays.
        if (current?.status === 'True' && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, cond);
      } else if (deploymentTimedOut(this.d, status, this.nowMs)) {
        setCondition(status, newCondition('Progressing', 'False', REASON.timedOut, `${what} has timed out progressing.`, this.now));
      }
    }
    const failure = [newRS, ...all].map((rs) => rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure')).find((c) => c);
    if (failure) {
      setCondition(status, newCondition('ReplicaFailure', failure.status as 'True' | 'False' | 'Unknown', failure.reason ?? '', failure.message ?? '', failure.lastTransitionTime ?? this.now));
    } else removeCondition(status, 'ReplicaFailure');
    this.finalStatus = status;
    this.requeueAfterMs = this.stuckRequeue(status);
  }

  /** `requeueStuckDeployment`: when to look again so a stalled rollout times out on time. */
  private stuckRequeue(status: DeploymentStatus): number | undefined {
    const cur = getCondition(this.d.status, 'Progressing');
    if (!hasProgressDeadline(this.d) || !cur) return undefined;
    if (deploymentComplete(this.d, status) || cur.reason === REASON.timedOut) return undefined;
    const from = timeMs(cur.lastUpdateTime);
    if (from === undefined) return undefined;
    const after = from + (this.d.spec?.progressDeadlineSeconds ?? 600) * 1000 - this.nowMs;
    return Math.max(1000, after);
  }
}

/** A ReplicaSet as sent to the API server: no server-owned fields from the working copy. */
function snapshot(rs: ReplicaSet): ReplicaSet {
  const copy = structuredClone(rs);
  if (copy.metadata?.uid) return copy;
  const { creationTimestamp: _unset, ...metadata } = copy.metadata ?? {};
  return { ...copy, metadata };
}

/**
 * `FindActiveOrLatest`: the only ReplicaSet with replicas, or the newest one if none has any;
 * undefined when several have replicas.
 */
function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/**
 * Plans one sync of Deployment `d` (Kubernetes' `syncDeployment`), given every ReplicaSet and
 * pod of its namespace, at `now`:
 * 1. claim: owned ReplicaSets whose labels match stay, others are released; matching orphans
 *    are adopted;
 * 2. being deleted: status only; paused or resized: proportional scaling only (and history
 *    cleanup when paused), no rollout progress;
 * 3. otherwise roll out by strategy: RollingUpdate creates/scales the ReplicaSet of the current
 *    template within maxSurge and scales old ones down while at least
 *    `replicas - maxUnavailable` pods stay available (unavailable old pods go first); Recreate
 *    scales every old ReplicaSet to 0, waits until their pods are gone, then scales up the new one;
 * 4. status: counts, Available and Progressing conditions, observedGeneration, and when the
 *    progress deadline needs another look.
 */
export function planRollout(d: Deployment, replicaSets: readonly ReplicaSet[], pods: readonly Pod[], now: Date): RolloutPlan {
  const base: RolloutPlan = { adopt: [], release: [], actions: [] };
  const selector = d.spec?.selector;
  if (selector && canonicalJson(selector) === 'null') {
    const observed = (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0);
    return {
      ...base,
      warning: { reason: 'SelectingAll', message: 'This deployment is selecting all pods. A non-empty selector is required.' },
      ...(observed ? { status: { ...d.status, observedGeneration: d.metadata?.generation } } : {}),
    };
  }
  const sel = fromLabelSelector(selector);
  if (!sel.ok) return { ...base, error: `invalid selector: ${sel.error}` };

  const uid = d.metadata?.uid;
  const deleting = !!d.metadata?.deletionTimestamp;
  const claimed: ReplicaSet[] = [];
  for (const rs of replicaSets) {
    if (rs.metadata?.namespace !== d.metadata?.namespace) continue;
    const ref = controllerRef(rs);
    const selected = matches(sel.selector, rs.metadata?.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (selected || deleting) claimed.push(rs);
      else base.release.push(rs);
    } else if (selected && !deleting && !rs.metadata?.deletionTimestamp) {
      base.adopt.push(rs);
      claimed.push(rs);
    }
  }
  const podsOfD = pods.filter((p) => p.metadata?.namespace === d.metadata?.namespace && matches(sel.selector, p.metadata?.labels));
  const s = new Sync(d, claimed, podsOfD, now);

  if (deleting) {
    const { newRS, oldRSs } = s.newAndOld(false);
    s.finalStatus = s.calculateStatus([...oldRSs, newRS], newRS);
  } else {
    s.pausedConditions();
    if (d.spec?.paused || s.isScalingEvent()) s.scaleOnly();
    else if (d.spec?.strategy?.type === 'Recreate') s.recreate();
    else s.rolling();
  }

  const plan: RolloutPlan = { ...base, actions: s.actions };
  const rev = s.d.metadata?.annotations?.[REVISION];
  if (rev !== undefined && rev !== d.metadata?.annotations?.[REVISION]) plan.revision = rev;
  const final = compact(s.finalStatus ?? s.d.status ?? {});
  if (canonicalJson(final) !== canonicalJson(compact(d.status ?? {}))) plan.status = final;
  if (s.requeueAfterMs !== undefined) plan.requeueAfterMs = s.requeueAfterMs;
  const newName = s.sets.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template))?.metadata?.name;
  if (newName) plan.newReplicaSet = newName;
  return plan;
}
