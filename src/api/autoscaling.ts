/**
 * HorizontalPodAutoscaler (autoscaling/v2, the storage version, and autoscaling/v1): the
 * defaults Kubernetes sets (`pkg/apis/autoscaling/v2/defaults.go`) and the conversion between
 * the two versions (`pkg/apis/autoscaling/v1/conversion.go`): v1's
 * `targetCPUUtilizationPercentage` is v2's `Resource cpu Utilization` metric; what v1 cannot
 * express (other metrics, behavior, conditions, current metrics) travels in the
 * `autoscaling.alpha.kubernetes.io/*` annotations of the v1 object, so a v1 round trip keeps it.
 * Pure functions.
 */
import type { HorizontalPodAutoscaler as HPAv1 } from 'kubernetes-types/autoscaling/v1.js';
import type {
  HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerCondition, HPAScalingRules, MetricSpec, MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';

export type { HorizontalPodAutoscaler, HPAv1 };

/** Kubernetes' default CPU utilisation target when an HPA names no metric (80%). */
export const DEFAULT_CPU_UTILIZATION = 80;

/** autoscaling/v2's default scale-up rules (behavior given, scaleUp fields left out). */
export const DEFAULT_SCALE_UP: Required<Pick<HPAScalingRules, 'stabilizationWindowSeconds' | 'selectPolicy' | 'policies'>> = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};

/**
 * Its default scale-down rules. No stabilisation window: the controller then uses its own
 * (`--horizontal-pod-autoscaler-downscale-stabilization`, 5 minutes by default).
 */
export const DEFAULT_SCALE_DOWN: Required<Pick<HPAScalingRules, 'selectPolicy' | 'policies'>> = {
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

const cpuMetric = (utilization: number): MetricSpec => ({
  type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } },
});

/** Fills a rules object's unset fields from `defaults` (Kubernetes' `GenerateHPAScale*Rules`). */
function rulesWithDefaults(r: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  const out: HPAScalingRules = { ...r };
  if (out.stabilizationWindowSeconds === undefined && defaults.stabilizationWindowSeconds !== undefined) out.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  out.selectPolicy ??= defaults.selectPolicy;
  if (!out.policies?.length) out.policies = (defaults.policies ?? []).map((p) => ({ ...p }));
  return out;
}

/** `SetDefaults_HorizontalPodAutoscaler` of autoscaling/v2 (in place, idempotent). */
export function applyHpaDefaults(hpa: HorizontalPodAutoscaler): void {
  const spec = (hpa.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } });
  spec.minReplicas ??= 1;
  if (!spec.metrics?.length) spec.metrics = [cpuMetric(DEFAULT_CPU_UTILIZATION)];
  if (spec.behavior) {
    spec.behavior = {
      scaleUp: rulesWithDefaults(spec.behavior.scaleUp, DEFAULT_SCALE_UP),
      scaleDown: rulesWithDefaults(spec.behavior.scaleDown, DEFAULT_SCALE_DOWN),
    };
  }
}

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const V1_ANNOTATIONS = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

const isCpuUtilization = (m: MetricSpec): boolean =>
  m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization' && m.resource.target.averageUtilization !== undefined;

/** Reads one of the annotations as JSON; a malformed one is ignored, as Kubernetes ignores it. */
function annotationJson<T>(annotations: Record<string, string> | undefined, key: string): T | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    // Not ours to refuse: Kubernetes' conversion drops an annotation it cannot parse, too.
    return undefined;
  }
}

/** A stored (v2) HPA as autoscaling/v1 serves it. */
export function hpaToV1(hpa: HorizontalPodAutoscaler): HPAv1 {
  const spec = hpa.spec;
  const metrics = spec?.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  const annotations: Record<string, string> = { ...hpa.metadata?.annotations };
  for (const k of V1_ANNOTATIONS) delete annotations[k];
  if (others.length) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  if (spec?.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  const current = hpa.status?.currentMetrics ?? [];
  const currentCpu = current.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const otherCurrent = current.filter((m) => m !== currentCpu);
  if (otherCurrent.length) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(otherCurrent);
  if (hpa.status?.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(hpa.status.conditions);
  const metadata = { ...hpa.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const out: HPAv1 = {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata,
    spec: {
      scaleTargetRef: { ...(spec?.scaleTargetRef ?? { kind: '', name: '' }) },
      maxReplicas: spec?.maxReplicas ?? 0,
      ...(spec?.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource?.target.averageUtilization } : {}),
    },
  };
  if (hpa.status) {
    const s = hpa.status;
    out.status = {
      currentReplicas: s.currentReplicas ?? 0,
      desiredReplicas: s.desiredReplicas,
      ...(s.observedGeneration !== undefined ? { observedGeneration: s.observedGeneration } : {}),
      ...(s.lastScaleTime !== undefined ? { lastScaleTime: s.lastScaleTime } : {}),
      ...(currentCpu?.resource?.current.averageUtilization !== undefined ? { currentCPUUtilizationPercentage: currentCpu.resource.current.averageUtilization } : {}),
    };
  }
  return out;
}

/** An autoscaling/v1 HPA as it is stored (v2), its annotations turned back into fields. */
export function hpaFromV1(v1: HPAv1): HorizontalPodAutoscaler {
  const annotations: Record<string, string> = { ...v1.metadata?.annotations };
  const others = annotationJson<MetricSpec[]>(annotations, METRICS_ANNOTATION) ?? [];
  const behavior = annotationJson<HorizontalPodAutoscalerBehavior>(annotations, BEHAVIOR_ANNOTATION);
  const otherCurrent = annotationJson<MetricStatus[]>(annotations, CURRENT_METRICS_ANNOTATION) ?? [];
  const conditions = annotationJson<HorizontalPodAutoscalerCondition[]>(annotations, CONDITIONS_ANNOTATION);
  for (const k of V1_ANNOTATIONS) delete annotations[k];
  const metadata = { ...v1.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const spec = v1.spec;
  const target = spec?.targetCPUUtilizationPercentage;
  const metrics = [...(target !== undefined && target !== null ? [cpuMetric(target)] : []), ...others];
  const out: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata,
    spec: {
      scaleTargetRef: { ...(spec?.scaleTargetRef ?? { kind: '', name: '' }) },
      maxReplicas: spec?.maxReplicas ?? 0,
      ...(spec?.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      ...(metrics.length ? { metrics } : {}),
      ...(behavior ? { behavior } : {}),
    },
  };
  if (v1.status) {
    const s = v1.status;
    const cpu = s.currentCPUUtilizationPercentage;
    const currentMetrics: MetricStatus[] = [
      ...(cpu !== undefined && cpu !== null ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cpu } } }] : []),
      ...otherCurrent,
    ];
    out.status = {
      currentReplicas: s.currentReplicas ?? 0,
      desiredReplicas: s.desiredReplicas ?? 0,
      ...(s.observedGeneration !== undefined ? { observedGeneration: s.observedGeneration } : {}),
      ...(s.lastScaleTime !== undefined ? { lastScaleTime: s.lastScaleTime } : {}),
      ...(currentMetrics.length ? { currentMetrics } : {}),
      ...(conditions ? { conditions } : {}),
    };
  }
  return out;
}
