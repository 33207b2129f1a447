/**
 * The HorizontalPodAutoscaler's arithmetic (Kubernetes' `podautoscaler/replica_calculator.go`
 * and the behaviour part of `horizontal.go`), as pure functions for the controller to call:
 * the replicas a CPU-utilisation target asks for (tolerance 0.1, missing and unready pods
 * treated as Kubernetes treats them), then the stabilisation windows and the scale-up /
 * scale-down rate policies of `spec.behavior` (with autoscaling/v2's defaults).
 */

/** The per-pod inputs of a resource-utilisation metric. */
export interface PodSample {
  name: string;
  /** The pod's summed request of the resource (millicores for CPU); 0 = none set. */
  request: number;
  /** Its measured usage (same unit), undefined when no metrics were reported. */
  usage?: number;
  /** Ready, and past its start-up period (unready pods are not trusted for a scale-up). */
  ready: boolean;
}

export const DEFAULT_TOLERANCE = 0.1;

export type ReplicaResult =
  | { ok: true; replicas: number; utilization: number }
  | { ok: false; reason: string };

const ratioOf = (pods: readonly { request: number; usage: number }[], target: number): { ratio: number; utilization: number } => {
  const usage = pods.reduce((n, p) => n + p.usage, 0);
  const request = pods.reduce((n, p) => n + p.request, 0);
  const utilization = request > 0 ? Math.trunc((usage * 100) / request) : 0;
  return { ratio: request > 0 ? (usage * 100) / request / target : 0, utilization };
};

/**
 * Kubernetes' `GetResourceReplicas` for a utilisation `target` (percent of request): the
 * replica count, or why it cannot be computed (no metrics, a pod without a request).
 */
export function resourceReplicas(current: number, target: number, pods: readonly PodSample[], tolerance = DEFAULT_TOLERANCE): ReplicaResult {
  if (!pods.length) return { ok: false, reason: 'no pods returned by selector while calculating replica count' };
  const missingRequest = pods.find((p) => p.request <= 0);
  if (missingRequest) return { ok: false, reason: `missing request for cpu in container of pod ${missingRequest.name}` };
  const measured = pods.filter((p) => p.usage !== undefined && p.ready).map((p) => ({ request: p.request, usage: p.usage ?? 0 }));
  const unready = pods.filter((p) => p.usage !== undefined && !p.ready);
  const missing = pods.filter((p) => p.usage === undefined);
  if (!measured.length && !unready.length) return { ok: false, reason: 'did not receive metrics for targeted pods (pods might be unready)' };
  const { ratio, utilization } = ratioOf(measured, target);
  const scaleUpWithUnready = unready.length > 0 && ratio > 1;
  if (!scaleUpWithUnready && !missing.length) {
    if (Math.abs(1 - ratio) <= tolerance) return { ok: true, replicas: current, utilization };
    return { ok: true, replicas: Math.ceil(ratio * measured.length), utilization };
  }
  const all = [...measured];
  if (ratio < 1) {
    // On a scale-down, pods without metrics count as using their request (or the target, if higher).
    const fallback = Math.max(100, target);
    for (const p of missing) all.push({ request: p.request, usage: (p.request * fallback) / 100 });
  } else if (ratio > 1) {
    for (const p of missing) all.push({ request: p.request, usage: 0 });
  }
  if (scaleUpWithUnready) for (const p of unready) all.push({ request: p.request, usage: 0 });
  const next = ratioOf(all, target).ratio;
  if (Math.abs(1 - next) <= tolerance || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return { ok: true, replicas: current, utilization };
  const replicas = Math.ceil(next * all.length);
  if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) return { ok: true, replicas: current, utilization };
  return { ok: true, replicas, utilization };
}

export interface ScalingPolicy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}
export interface Behavior { scaleUp: ScalingRules; scaleDown: ScalingRules }

/** autoscaling/v2's defaults for whatever `spec.behavior` leaves out. */
export function withDefaultBehavior(b: { scaleUp?: Partial<ScalingRules>; scaleDown?: Partial<ScalingRules> } | undefined): Behavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: b?.scaleUp?.stabilizationWindowSeconds ?? 0,
      selectPolicy: b?.scaleUp?.selectPolicy ?? 'Max',
      policies: b?.scaleUp?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: b?.scaleDown?.stabilizationWindowSeconds ?? 300,
      selectPolicy: b?.scaleDown?.selectPolicy ?? 'Max',
      policies: b?.scaleDown?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  };
}

/** A past recommendation (for stabilisation) or a past scale change (for the rate policies). */
export interface Recommendation { atMs: number; replicas: number }
export interface ScaleEvent { atMs: number; change: number }

/**
 * Stabilisation: the scale-up takes the lowest recommendation of its window, the scale-down the
 * highest of its; the current count stays between them.
 */
export function stabilize(current: number, desired: number, history: readonly Recommendation[], b: Behavior, nowMs: number): number {
  let up = desired;
  let down = desired;
  for (const r of history) {
    if (r.atMs > nowMs - b.scaleUp.stabilizationWindowSeconds * 1000) up = Math.min(up, r.replicas);
    if (r.atMs > nowMs - b.scaleDown.stabilizationWindowSeconds * 1000) down = Math.max(down, r.replicas);
  }
  let result = current;
  if (result < up) result = up;
  if (result > down) result = down;
  return result;
}

const changedWithin = (events: readonly ScaleEvent[], periodSeconds: number, nowMs: number, sign: 1 | -1): number =>
  events.filter((e) => e.atMs > nowMs - periodSeconds * 1000 && Math.sign(e.change) === sign).reduce((n, e) => n + Math.abs(e.change), 0);

/** The most replicas the scale-up policies allow now (Kubernetes' `calculateScaleUpLimitWithScalingRules`). */
export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changedWithin(events, p.periodSeconds, nowMs, 1);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (`calculateScaleDownLimitWithBehaviors`). */
export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current + changedWithin(events, p.periodSeconds, nowMs, -1);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

export interface ScaleDecision {
  replicas: number;
  /** Why the count was held back (Kubernetes' `ScalingLimited` reasons), if it was. */
  limitedBy?: 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas';
}

/**
 * Kubernetes' `normalizeDesiredReplicasWithBehaviors`: stabilise the metric's recommendation,
 * then bound it by the rate policies and by [minReplicas, maxReplicas].
 */
export function decideReplicas(o: {
  current: number; recommended: number; minReplicas: number; maxReplicas: number;
  behavior: Behavior; history: readonly Recommendation[]; events: readonly ScaleEvent[]; nowMs: number;
}): ScaleDecision {
  const stable = stabilize(o.current, o.recommended, o.history, o.behavior, o.nowMs);
  if (stable > o.current) {
    const limit = Math.max(o.current, scaleUpLimit(o.current, o.events, o.behavior.scaleUp, o.nowMs));
    const allowed = Math.min(o.maxReplicas, limit);
    if (stable > allowed) return { replicas: allowed, limitedBy: allowed === o.maxReplicas ? 'TooManyReplicas' : 'ScaleUpLimit' };
    return { replicas: stable };
  }
  if (stable < o.current) {
    const limit = Math.min(o.current, scaleDownLimit(o.current, o.events, o.behavior.scaleDown, o.nowMs));
    const allowed = Math.max(o.minReplicas, limit);
    if (stable < allowed) return { replicas: allowed, limitedBy: allowed === o.minReplicas ? 'TooFewReplicas' : 'ScaleDownLimit' };
    return { replicas: stable };
  }
  if (stable > o.maxReplicas) return { replicas: o.maxReplicas, limitedBy: 'TooManyReplicas' };
  if (stable < o.minReplicas) return { replicas: o.minReplicas, limitedBy: 'TooFewReplicas' };
  return { replicas: stable };
}

/**
 * Kubernetes' `calcPlainMetricReplicas` for a per-pod average `target` (an `AverageValue`
 * resource target): the average usage of the measured ready pods against the target, with
 * missing pods counted at the target on a scale-down (0 on a scale-up) and unready pods at 0
 * when they would make a scale-up.
 */
export function averageValueReplicas(current: number, target: number, pods: readonly PodSample[], tolerance = DEFAULT_TOLERANCE): { ok: true; replicas: number; average: number } | { ok: false; reason: string } {
  if (!pods.length) return { ok: false, reason: 'no pods returned by selector while calculating replica count' };
  const measured = pods.filter((p) => p.usage !== undefined && p.ready).map((p) => p.usage ?? 0);
  const unready = pods.filter((p) => p.usage !== undefined && !p.ready).length;
  const missing = pods.filter((p) => p.usage === undefined).length;
  if (!measured.length) return { ok: false, reason: 'did not receive metrics for targeted pods (pods might be unready)' };
  const avg = (xs: readonly number[]): number => xs.reduce((n, x) => n + x, 0) / xs.length;
  const average = avg(measured);
  const ratio = average / target;
  const scaleUpWithUnready = unready > 0 && ratio > 1;
  if (!scaleUpWithUnready && !missing) {
    if (Math.abs(1 - ratio) <= tolerance) return { ok: true, replicas: current, average };
    return { ok: true, replicas: Math.ceil(ratio * measured.length), average };
  }
  const all = [...measured];
  for (let i = 0; i < missing; i++) all.push(ratio < 1 ? target : 0);
  if (scaleUpWithUnready) for (let i = 0; i < unready; i++) all.push(0);
  const next = avg(all) / target;
  if (Math.abs(1 - next) <= tolerance || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return { ok: true, replicas: current, average };
  const replicas = Math.ceil(next * all.length);
  if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) return { ok: true, replicas: current, average };
  return { ok: true, replicas, average };
}

/** Kubernetes' `--horizontal-pod-autoscaler-cpu-initialization-period` default (5 minutes). */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** Kubernetes' `--horizontal-pod-autoscaler-initial-readiness-delay` default (30 s). */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** What {@link sampleTrusted} needs of a pod and of its metric sample. */
export interface ReadinessInput {
  /** `status.startTime` (ms), if set. */
  startMs?: number;
  /** The Ready condition: its status and lastTransitionTime (ms), if the pod has one. */
  ready?: { status: string; transitionMs: number };
  /** The sample's timestamp and window (ms). */
  sampleMs: number;
  windowMs: number;
}

/**
 * Whether a CPU sample counts as from a ready pod (Kubernetes' `groupPods`): within the CPU
 * initialisation period, only if the pod is Ready and the sample was taken a whole window after
 * it turned Ready; later, unless the pod is unready and has never been ready (its Ready
 * condition last changed within the initial readiness delay of its start). Other resources: always.
 */
export function sampleTrusted(resource: string, p: ReadinessInput, nowMs: number): boolean {
  if (resource !== 'cpu') return true;
  if (!p.ready || p.startMs === undefined) return false;
  if (p.startMs + CPU_INITIALIZATION_PERIOD_MS > nowMs) {
    return p.ready.status !== 'False' && p.sampleMs >= p.ready.transitionMs + p.windowMs;
  }
  return !(p.ready.status === 'False' && p.startMs + INITIAL_READINESS_DELAY_MS > p.ready.transitionMs);
}

/**
 * Kubernetes' `normalizeDesiredReplicas`, for an HPA without `spec.behavior`: the highest
 * recommendation of the downscale stabilisation window (none newer than the window is lower
 * than what is kept), a scale-up of at most max(2 × current, 4), then [min, max].
 */
export function decideReplicasWithoutBehavior(o: {
  current: number; recommended: number; minReplicas: number; maxReplicas: number;
  downscaleWindowMs: number; history: readonly Recommendation[]; nowMs: number;
}): ScaleDecision & { stabilized: number } {
  let stabilized = o.recommended;
  for (const r of o.history) if (r.atMs > o.nowMs - o.downscaleWindowMs) stabilized = Math.max(stabilized, r.replicas);
  const scaleUpLimit = Math.max(2 * o.current, 4);
  const maximum = Math.min(o.maxReplicas, scaleUpLimit);
  if (stabilized < o.minReplicas) return { replicas: o.minReplicas, limitedBy: 'TooFewReplicas', stabilized };
  if (stabilized > maximum) return { replicas: maximum, limitedBy: maximum === scaleUpLimit && scaleUpLimit < o.maxReplicas ? 'ScaleUpLimit' : 'TooManyReplicas', stabilized };
  return { replicas: stabilized, stabilized };
}
