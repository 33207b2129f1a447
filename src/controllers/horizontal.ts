/**
 * The horizontal pod autoscaler controller (Kubernetes' `podautoscaler` HorizontalController):
 * every sync period, for each HorizontalPodAutoscaler, it reads the target's `scale`
 * subresource, the pods its selector picks and their usage from `metrics.k8s.io` (all through
 * the API), computes the replicas each metric asks for (src/controllers/hpaplan.ts: tolerance,
 * missing and unready pods), takes the largest, stabilises and rate-limits it by the behaviour
 * and bounds it by min/max, writes the new count through the `scale` subresource of any kind
 * that has one, and records status, the AbleToScale / ScalingActive / ScalingLimited
 * conditions and the SuccessfulRescale events as Kubernetes words them.
 *
 * Resource (cpu, memory) and ContainerResource metrics are honoured, with Utilization and
 * AverageValue targets; Pods, Object and External metrics need metrics APIs minikube-lite does
 * not serve and make ScalingActive False, as in a Kubernetes cluster without them.
 *
 * A sync reads (the scale, the metrics), plans with the pure {@link planHorizontal}, then acts
 * (events, the new scale, the status). Keys are HPA keys. The recommendation and scale-event
 * history of each HPA lives in memory, as in Kubernetes (a restarted controller starts with none).
 */
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricSpec, MetricStatus, MetricValueStatus } from 'kubernetes-types/autoscaling/v2.js';
import { ApiError } from '../api/errors.js';
import { matches, parseSelector } from '../api/labels.js';
import { formatQuantity, milliQuantity, parseQuantity } from '../api/quantity.js';
import { findKind } from '../api/registry.js';
import type { KubeObject, Pod, Scale } from '../api/types.js';
import { HPAS, PODS, POD_METRICS, resourcePath, type ResourceRef } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
import {
  averageValueReplicas, decideReplicas, decideReplicasWithoutBehavior, resourceReplicas, sampleTrusted, stabilize, withDefaultBehavior, DEFAULT_TOLERANCE,
  type Behavior, type PodSample, type Recommendation, type ScaleEvent,
} from './hpaplan.js';
import { splitKey, timeMs } from './podutil.js';
import { kubeTime } from './jobutil.js';

export { HPAS, POD_METRICS };

type HPA = HorizontalPodAutoscaler & KubeObject;
type Status = NonNullable<HorizontalPodAutoscaler['status']>;

/** A PodMetrics as metrics.k8s.io serves it. */
export interface PodMetricsItem extends KubeObject {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

export interface HorizontalControllerOptions extends ControllerContext {
  /** How often each HPA is evaluated (`--horizontal-pod-autoscaler-sync-period`, default 15 s). */
  syncPeriodMs?: number;
  /** Scale-down stabilisation window when the behaviour sets none (`--horizontal-pod-autoscaler-downscale-stabilization`, default 5 min). */
  downscaleStabilizationMs?: number;
  /** Ratios within this of 1 cause no scaling (`--horizontal-pod-autoscaler-tolerance`, default 0.1). */
  tolerance?: number;
}

/** One metric's outcome: the replicas it asks for and its status, or why it could not be read. */
export type MetricResult =
  | { ok: true; replicas: number; status: MetricStatus; name: string; timestampMs?: number }
  | { ok: false; reason: string; message: string };

/** A quantity in milli-units (`250m` → 250, `1Mi` → 1048576000); 0 when malformed. */
function milliOf(v: string | number): number {
  const q = parseQuantity(v);
  return q.ok ? Number(q.quantity.nanos / 1_000_000n) : 0;
}

/** The usage of one resource in a PodMetrics, in milli-units (or of one container). */
function usageMilli(m: PodMetricsItem, resource: string, container?: string): number | undefined {
  let total = 0;
  let found = false;
  for (const c of m.containers ?? []) {
    if (container !== undefined && c.name !== container) continue;
    const v = c.usage?.[resource];
    if (v === undefined) continue;
    total += milliOf(v);
    found = true;
  }
  return found ? total : undefined;
}

/** A pod's request of `resource` in milli-units, or the container that has none. */
function requestMilli(pod: Pod, resource: string, container?: string): number | { missing: string } {
  let total = 0;
  for (const c of pod.spec?.containers ?? []) {
    if (container !== undefined && c.name !== container) continue;
    const v = c.resources?.requests?.[resource];
    if (v === undefined) return { missing: c.name };
    total += milliOf(v);
  }
  return total;
}

const durationMs = (d: string | undefined): number => {
  const m = /^([0-9.]+)s$/.exec(d ?? '');
  return m ? Number(m[1]) * 1000 : 0;
};

/**
 * The replicas a Resource or ContainerResource metric asks for (Kubernetes' `GetResourceReplicas`
 * / `GetRawResourceReplicas` with `groupPods`). `pods` are those the target's selector picks;
 * `metrics` the PodMetrics of the same selector. Pure.
 */
export function resourceMetricReplicas(spec: MetricSpec, current: number, pods: readonly Pod[], metrics: readonly PodMetricsItem[], nowMs: number, tolerance = DEFAULT_TOLERANCE): MetricResult {
  const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
  const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
  const resource = src?.name ?? '';
  const failReason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
  const byName = new Map(metrics.map((m) => [m.metadata?.name ?? '', m]));
  const samples: PodSample[] = [];
  let newestSample: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') continue;
    const request = requestMilli(pod, resource, container);
    if (typeof request !== 'number') {
      return { ok: false, reason: failReason, message: `failed to get ${resource} utilization: missing request for ${resource} in container ${request.missing} of Pod ${name}` };
    }
    if (pod.status?.phase === 'Pending') {
      samples.push({ name, request, usage: 0, ready: false });
      continue;
    }
    const m = byName.get(name);
    const usage = m ? usageMilli(m, resource, container) : undefined;
    if (usage === undefined || !m) {
      samples.push({ name, request, ready: false });
      continue;
    }
    const sampleMs = timeMs(m.timestamp) ?? nowMs;
    newestSample = Math.max(newestSample ?? 0, sampleMs);
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const trusted = sampleTrusted(resource, {
      startMs: timeMs(pod.status?.startTime),
      ready: ready ? { status: ready.status, transitionMs: timeMs(ready.lastTransitionTime) ?? 0 } : undefined,
      sampleMs, windowMs: durationMs(m.window),
    }, nowMs);
    samples.push({ name, request, usage, ready: trusted });
  }
  const noMetrics = { ok: false as const, reason: failReason, message: `failed to get ${resource} utilization: unable to get metrics for resource ${resource}: no metrics returned from resource metrics API` };
  if (!samples.some((s) => s.usage !== undefined && s.ready)) {
    if (!samples.length) return { ok: false, reason: failReason, message: `failed to get ${resource} utilization: no pods returned by selector while calculating replica count` };
    if (!metrics.length) return noMetrics;
  }
  const target = src?.target;
  const currentStatus = (current: MetricValueStatus): MetricStatus =>
    spec.type === 'Resource'
      ? { type: 'Resource', resource: { name: resource, current } }
      : { type: 'ContainerResource', containerResource: { name: resource, container: container ?? '', current } };
  const kindText = spec.type === 'Resource' ? 'resource' : 'container resource';
  if (target?.type === 'AverageValue' && target.averageValue !== undefined) {
    const targetMilli = milliOf(target.averageValue);
    const r = averageValueReplicas(current, targetMilli, samples, tolerance);
    if (!r.ok) return { ok: false, reason: failReason, message: `failed to get ${resource} usage: ${r.reason}` };
    return { ok: true, replicas: r.replicas, name: `${resource} ${kindText}`, timestampMs: newestSample,
      status: currentStatus({ averageValue: formatQuantity(milliQuantity(Math.round(r.average))) }) };
  }
  const r = resourceReplicas(current, target?.averageUtilization ?? 0, samples, tolerance);
  if (!r.ok) return { ok: false, reason: failReason, message: `failed to get ${resource} utilization: ${r.reason}` };
  const measured = samples.filter((s) => s.usage !== undefined && s.ready);
  const avg = measured.length ? measured.reduce((n, s) => n + (s.usage ?? 0), 0) / measured.length : 0;
  return { ok: true, replicas: r.replicas, name: `${resource} ${kindText} utilization (percentage of request)`, timestampMs: newestSample,
    status: currentStatus({ averageUtilization: r.utilization, averageValue: formatQuantity(milliQuantity(Math.round(avg))) }) };
}

/** Why a metric type cannot be read here (no custom or external metrics API). */
export function unservedMetric(spec: MetricSpec): MetricResult {
  switch (spec.type) {
    case 'Pods':
      return { ok: false, reason: 'FailedGetPodsMetric', message: `unable to get metric ${spec.pods?.metric.name ?? ''}: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered` };
    case 'Object':
      return { ok: false, reason: 'FailedGetObjectMetric', message: `unable to get metric ${spec.object?.metric.name ?? ''}: ${spec.object?.describedObject.kind ?? ''} on ${spec.object?.describedObject.name ?? ''}/unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered` };
    case 'External':
      return { ok: false, reason: 'FailedGetExternalMetric', message: `unable to get external metric ${spec.external?.metric.name ?? ''}: unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered` };
    default:
      return { ok: false, reason: 'InvalidMetricSourceType', message: `unknown metric source type "${spec.type}"` };
  }
}

/** The conditions with one set; its lastTransitionTime moves only when its status changes. */
export function setCondition(conds: readonly HorizontalPodAutoscalerCondition[], type: string, status: 'True' | 'False', reason: string, message: string, now: Date): HorizontalPodAutoscalerCondition[] {
  const prev = conds.find((c) => c.type === type);
  const next: HorizontalPodAutoscalerCondition = {
    type, status, reason, message,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : kubeTime(now),
  };
  const out = conds.filter((c) => c.type !== type);
  // Kubernetes' order: AbleToScale, ScalingActive, ScalingLimited.
  const order = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
  return [...out, next].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

const LIMIT_MESSAGES: Record<string, string> = {
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
};

/** Per-HPA memory: past recommendations (stabilisation) and scale changes (rate policies). */
export interface History { recommendations: Recommendation[]; events: ScaleEvent[] }

export class HorizontalController extends Controller {
  private readonly hpas = this.informer<HPA>(HPAS);
  private readonly pods = this.informer<Pod & KubeObject>(PODS);
  private readonly syncPeriodMs: number;
  private readonly downscaleWindowMs: number;
  private readonly tolerance: number;
  private readonly history = new Map<string, History>();

  constructor(ctx: HorizontalControllerOptions) {
    super('horizontal-pod-autoscaler', ctx, { workers: 2, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.syncPeriodMs = ctx.syncPeriodMs ?? 15_000;
    this.downscaleWindowMs = ctx.downscaleStabilizationMs ?? 300_000;
    this.tolerance = ctx.tolerance ?? DEFAULT_TOLERANCE;
    // As Kubernetes: an update (the controller's own status writes included) is looked at on the
    // next sync period, never at once, so one measurement cannot scale twice in a row. A new HPA
    // is looked at now (Kubernetes waits a period for it, too; minikube-lite does not).
    this.hpas.addHandlers({
      onAdd: (h) => this.enqueue(h),
      onUpdate: (_old, h) => this.queue.addAfter(`${h.metadata?.namespace ?? ''}/${h.metadata?.name ?? ''}`, this.syncPeriodMs),
      onDelete: (h) => {
        this.history.delete(`${h.metadata?.namespace ?? ''}/${h.metadata?.name ?? ''}`);
        this.enqueue(h);
      },
    });
  }

  /** The HPA's behaviour with autoscaling/v2's defaults and the controller's downscale window. */
  private behaviorOf(hpa: HorizontalPodAutoscaler): Behavior {
    const b = hpa.spec?.behavior;
    const scaleDown = { ...b?.scaleDown, stabilizationWindowSeconds: b?.scaleDown?.stabilizationWindowSeconds ?? this.downscaleWindowMs / 1000 };
    return withDefaultBehavior({
      scaleUp: b?.scaleUp as Behavior['scaleUp'] | undefined,
      scaleDown: scaleDown as Behavior['scaleDown'],
    });
  }

  private targetRef(hpa: HorizontalPodAutoscaler): { ref: ResourceRef; error?: undefined } | { error: string } {
    const t = hpa.spec?.scaleTargetRef;
    const def = findKind(t?.apiVersion ?? '', t?.kind ?? '');
    if (!def) return { error: `no matches for kind "${t?.kind ?? ''}" in group "${(t?.apiVersion ?? '').split('/').slice(0, -1).join('/')}"` };
    if (!def.subresources.includes('scale')) return { error: `${def.resource}.${def.group || 'core'} "${t?.name ?? ''}" has no scale subresource` };
    return { ref: { group: def.group, version: def.version, resource: def.resource, namespace: hpa.metadata?.namespace } };
  }

  protected async sync(key: string): Promise<void> {
    const hpa = this.hpas.get(key);
    if (!hpa) {
      this.history.delete(key);
      return;
    }
    try {
      await this.reconcile(key, hpa);
    } finally {
      // Evaluated again every sync period, whatever happened now (Kubernetes' resync).
      this.queue.addAfter(key, this.syncPeriodMs);
    }
  }

  private async reconcile(key: string, hpa: HPA): Promise<void> {
    const now = this.clock();
    const { namespace } = splitKey(key);
    const spec = hpa.spec;
    const write = async (st: Status): Promise<void> => {
      const next = { ...st, ...(hpa.metadata?.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}) };
      if (JSON.stringify(next) === JSON.stringify(hpa.status)) return;
      await this.client.updateStatus<HPA>({ ...HPAS, namespace }, { ...hpa, status: next });
    };

    // Read: the target's scale, then (when the count is in range) every metric.
    const target = this.targetRef(hpa);
    let scale: Scale | undefined;
    let scaleError = target.error;
    if (target.error === undefined) {
      try {
        scale = await this.client.request<Scale>('GET', resourcePath(target.ref, spec?.scaleTargetRef.name ?? '', 'scale'));
      } catch (e) {
        scaleError = (e as Error).message;
      }
    }
    const current = scale?.spec?.replicas ?? 0;
    const results = scale && needsMetrics(hpa, current) ? await this.metricResults(hpa, scale, current, now.getTime()) : undefined;

    // Plan (pure).
    const plan = planHorizontal({
      hpa, now, scale: scale ? { replicas: current, statusReplicas: scale.status?.replicas ?? 0 } : { error: scaleError ?? '' },
      metrics: results, history: this.history.get(key) ?? { recommendations: [], events: [] },
      behavior: this.behaviorOf(hpa), downscaleWindowMs: this.downscaleWindowMs,
    });

    // Act: events, history, the new scale, the status.
    for (const e of plan.warnings) void this.recorder.event(hpa, 'Warning', e.reason, e.message);
    if (plan.history) this.history.set(key, plan.history);
    let { status } = plan;
    if (plan.rescale && target.error === undefined && scale) {
      const { replicas, reason } = plan.rescale;
      try {
        await this.client.request<Scale>('PUT', resourcePath(target.ref, spec?.scaleTargetRef.name ?? '', 'scale'), { ...scale, spec: { replicas } });
      } catch (e) {
        const msg = (e as Error).message;
        void this.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${replicas}; reason: ${reason}; error: ${msg}`);
        const conditions = setCondition(status.conditions ?? [], 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`, now);
        await write({ ...status, desiredReplicas: current, lastScaleTime: hpa.status?.lastScaleTime, conditions });
        throw e;
      }
      const hist = this.history.get(key) ?? { recommendations: [], events: [] };
      this.history.set(key, { ...hist, events: [...hist.events, { atMs: now.getTime(), change: replicas - current }] });
      status = { ...status, conditions: setCondition(status.conditions ?? [], 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${replicas}`, now) };
      void this.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${replicas}; reason: ${reason}`);
      this.log(`${this.name}: ${key}: ${spec?.scaleTargetRef.kind ?? ''}/${spec?.scaleTargetRef.name ?? ''} ${current} -> ${replicas} (${reason})`);
    }
    await write(status);
  }

  /** Every metric of the HPA, read through the API (PodMetrics of the target's selector). */
  private async metricResults(hpa: HPA, scale: Scale, current: number, nowMs: number): Promise<MetricResult[]> {
    const namespace = hpa.metadata?.namespace ?? '';
    const selectorText = scale.status?.selector ?? '';
    const parsed = parseSelector(selectorText);
    const specs = hpa.spec?.metrics ?? [];
    if (!selectorText || !parsed.ok) {
      const message = !selectorText
        ? 'selector is required'
        : `couldn't convert selector into a corresponding internal selector object: ${parsed.ok ? '' : parsed.error}`;
      return specs.map(() => ({ ok: false, reason: selectorText ? 'InvalidSelector' : 'SelectorRequired', message }));
    }
    const pods = this.pods.list().filter((p) => p.metadata?.namespace === namespace && matches(parsed.selector, p.metadata?.labels));
    let metrics: PodMetricsItem[] | undefined;
    let metricsError: string | undefined;
    const needsResource = specs.some((s) => s.type === 'Resource' || s.type === 'ContainerResource');
    if (needsResource) {
      try {
        metrics = (await this.client.list<PodMetricsItem>({ ...POD_METRICS, namespace }, { labelSelector: selectorText })).items;
      } catch (e) {
        metricsError = (e as Error).message;
      }
    }
    return specs.map((s) => {
      if (s.type !== 'Resource' && s.type !== 'ContainerResource') return unservedMetric(s);
      const name = (s.type === 'Resource' ? s.resource?.name : s.containerResource?.name) ?? '';
      const reason = s.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
      if (metricsError !== undefined || !metrics) {
        return { ok: false, reason, message: `failed to get ${name} utilization: unable to get metrics for resource ${name}: unable to fetch metrics from resource metrics API: ${metricsError ?? ''}` };
      }
      return resourceMetricReplicas(s, current, pods, metrics, nowMs, this.tolerance);
    });
  }
}

/** Whether the metrics must be read: the target's count is within [min, max] and not zero. */
export function needsMetrics(hpa: HorizontalPodAutoscaler, current: number): boolean {
  const min = hpa.spec?.minReplicas ?? 1;
  const max = hpa.spec?.maxReplicas ?? 1;
  return !(current === 0 && min !== 0) && current <= max && current >= min;
}

/** What {@link planHorizontal} decides from. */
export interface HorizontalPlanInput {
  hpa: HorizontalPodAutoscaler;
  now: Date;
  /** The target's scale (desired and current replicas), or why it could not be read. */
  scale: { replicas: number; statusReplicas: number } | { error: string };
  /** Each metric's outcome, when {@link needsMetrics}. */
  metrics?: readonly MetricResult[];
  /** Past recommendations and scale changes of this HPA. */
  history: Readonly<History>;
  behavior: Behavior;
  downscaleWindowMs: number;
}

/** The plan of one sync: what to record, whether to rescale, and the status to write after. */
export interface HorizontalPlan {
  /** Warning events to record (metrics that could not be read, a scale that could not be got). */
  warnings: { reason: string; message: string }[];
  /** The history to keep (this recommendation added, old entries dropped), if it changed. */
  history?: History;
  /** A new replica count for the target and the reason the SuccessfulRescale event gives. */
  rescale?: { replicas: number; reason: string };
  /** The status to write (with a rescale: before its outcome is known; lastScaleTime set). */
  status: Status;
}

/**
 * One HPA sync as Kubernetes' `reconcileAutoscaler` decides it, without I/O: the conditions
 * (AbleToScale, ScalingActive, ScalingLimited with Kubernetes' reasons and messages), the
 * current metrics, the desired count after stabilisation, rate limits and bounds, and whether
 * the target must be rescaled. Pure.
 */
export function planHorizontal(i: HorizontalPlanInput): HorizontalPlan {
  const { hpa, now } = i;
  const nowMs = now.getTime();
  const spec = hpa.spec;
  const old: Status = hpa.status ?? { currentReplicas: 0, desiredReplicas: 0 };
  let conds = old.conditions ?? [];
  const warnings: HorizontalPlan['warnings'] = [];
  if ('error' in i.scale) {
    warnings.push({ reason: 'FailedGetScale', message: i.scale.error });
    conds = setCondition(conds, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${i.scale.error}`, now);
    return { warnings, status: { ...old, conditions: conds } };
  }
  conds = setCondition(conds, 'AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', now);
  const current = i.scale.replicas;
  const statusReplicas = i.scale.statusReplicas;
  const minReplicas = spec?.minReplicas ?? 1;
  const maxReplicas = spec?.maxReplicas ?? 1;
  let desired: number;
  let reason = '';
  let currentMetrics: MetricStatus[] | undefined = old.currentMetrics;
  let history: History | undefined;

  if (current === 0 && minReplicas !== 0) {
    // Autoscaling is off while the target is scaled to zero.
    desired = 0;
    conds = setCondition(conds, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now);
    currentMetrics = undefined;
  } else if (current > maxReplicas) {
    desired = maxReplicas;
    reason = 'Current number of replicas above Spec.MaxReplicas';
  } else if (current < minReplicas) {
    desired = minReplicas;
    reason = 'Current number of replicas below Spec.MinReplicas';
  } else {
    const results = i.metrics ?? [];
    const good = results.filter((r): r is Extract<MetricResult, { ok: true }> => r.ok);
    const bad = results.filter((r): r is Extract<MetricResult, { ok: false }> => !r.ok);
    currentMetrics = results.map((r, n) => (r.ok ? r.status : emptyStatus((spec?.metrics ?? [])[n])));
    warnings.push(...bad.map((b) => ({ reason: b.reason, message: b.message })));
    let best = good[0];
    for (const g of good) if (g.replicas > best.replicas) best = g;
    // Kubernetes: with an invalid metric, never scale down (and with only invalid ones, not at all).
    if (!best || (bad.length && best.replicas < current)) {
      const first = bad[0];
      warnings.push({ reason: 'FailedComputeMetricsReplicas', message: `invalid metrics (${bad.length} invalid out of ${results.length}), first error is: ${first?.message ?? ''}` });
      conds = setCondition(conds, 'ScalingActive', 'False', first?.reason ?? 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${first?.message ?? ''}`, now);
      return { warnings, status: { ...old, currentReplicas: statusReplicas, desiredReplicas: old.desiredReplicas ?? 0, currentMetrics, conditions: conds } };
    }
    conds = setCondition(conds, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${best.name}`, now);
    const b = i.behavior;
    const hist = i.history;
    // Without spec.behavior, Kubernetes' older rules (a scale-up of at most max(2x, 4)); with it, its policies.
    const legacy = spec?.behavior ? undefined : decideReplicasWithoutBehavior({
      current, recommended: best.replicas, minReplicas, maxReplicas, downscaleWindowMs: i.downscaleWindowMs, history: hist.recommendations, nowMs });
    const decision = legacy ?? decideReplicas({ current, recommended: best.replicas, minReplicas, maxReplicas, behavior: b, history: hist.recommendations, events: hist.events, nowMs });
    const stable = legacy ? legacy.stabilized : stabilize(current, best.replicas, hist.recommendations, b, nowMs);
    const keepMs = legacy ? i.downscaleWindowMs : 1000 * Math.max(b.scaleUp.stabilizationWindowSeconds, b.scaleDown.stabilizationWindowSeconds,
      ...b.scaleUp.policies.map((p) => p.periodSeconds), ...b.scaleDown.policies.map((p) => p.periodSeconds));
    history = {
      recommendations: [...hist.recommendations.filter((r) => r.atMs > nowMs - keepMs), { atMs: nowMs, replicas: best.replicas }],
      events: hist.events.filter((e) => e.atMs > nowMs - keepMs),
    };
    desired = decision.replicas;
    if (stable < best.replicas) conds = setCondition(conds, 'AbleToScale', 'True', 'ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation', now);
    else if (stable > best.replicas) conds = setCondition(conds, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation', now);
    else if (desired === current) conds = setCondition(conds, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', now);
    conds = decision.limitedBy
      ? setCondition(conds, 'ScalingLimited', 'True', decision.limitedBy, LIMIT_MESSAGES[decision.limitedBy], now)
      : setCondition(conds, 'ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range', now);
    if (desired > current) reason = `${best.name} above target`;
    else if (desired < current) reason = 'All metrics below target';
  }
  const rescale = desired !== current ? { replicas: desired, reason } : undefined;
  const lastScaleTime = rescale ? kubeTime(now) : old.lastScaleTime;
  return {
    warnings, history, rescale,
    status: {
      currentReplicas: statusReplicas, desiredReplicas: desired,
      ...(lastScaleTime ? { lastScaleTime } : {}),
      ...(currentMetrics?.length ? { currentMetrics } : {}),
      conditions: conds,
    },
  };
}

/** The status entry of a metric that could not be read (its type and name, no current value). */
function emptyStatus(spec: MetricSpec | undefined): MetricStatus {
  if (spec?.type === 'Resource') return { type: 'Resource', resource: { name: spec.resource?.name ?? '', current: {} } };
  if (spec?.type === 'ContainerResource') return { type: 'ContainerResource', containerResource: { name: spec.containerResource?.name ?? '', container: spec.containerResource?.container ?? '', current: {} } };
  return { type: '' };
}
