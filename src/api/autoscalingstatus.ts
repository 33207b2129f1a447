/**
 * How HorizontalPodAutoscalers print (Kubernetes' `printHorizontalPodAutoscaler` and
 * `formatHPAMetrics`): NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE, TARGETS like
 * `cpu: 12%/50%`. Accepts the v2 (stored) and the v1 shape. Pure.
 */
import type { HorizontalPodAutoscaler as HPAv1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';

const MAX_SHOWN = 2;

function metricText(spec: MetricSpec, status: MetricStatus | undefined): string {
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = spec.type === 'Resource' ? status?.resource?.current : status?.containerResource?.current;
      const name = src?.name ?? '';
      const prefix = spec.type === 'Resource' ? `${name}: ` : `${name} of container "${spec.containerResource?.container ?? ''}": `;
      if (src?.target.averageValue !== undefined) return `${prefix}${cur?.averageValue ?? '<unknown>'}/${src.target.averageValue}`;
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
      const target = src?.target.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${prefix}${current}/${target}`;
    }
    case 'Pods':
      return `${status?.pods?.current.averageValue ?? '<unknown>'}/${spec.pods?.target.averageValue ?? ''}`;
    case 'Object': {
      const t = spec.object?.target;
      if (t?.averageValue !== undefined) return `${status?.object?.current.averageValue ?? '<unknown>'}/${t.averageValue} (avg)`;
      return `${status?.object?.current.value ?? '<unknown>'}/${t?.value ?? ''}`;
    }
    case 'External': {
      const t = spec.external?.target;
      if (t?.averageValue !== undefined) return `${status?.external?.current.averageValue ?? '<unknown>'}/${t.averageValue} (avg)`;
      return `${status?.external?.current.value ?? '<unknown>'}/${t?.value ?? ''}`;
    }
    default:
      return '<unknown type>';
  }
}

/** The TARGETS cell of a v2 HPA. */
export function hpaTargets(hpa: HorizontalPodAutoscaler): string {
  const specs = hpa.spec?.metrics ?? [];
  if (!specs.length) return '<none>';
  const statuses = hpa.status?.currentMetrics ?? [];
  const list = specs.map((m, i) => metricText(m, statuses[i]));
  const shown = list.slice(0, MAX_SHOWN).join(', ');
  return list.length > MAX_SHOWN ? `${shown} + ${list.length - MAX_SHOWN} more...` : shown;
}

/** The cells after NAME and before AGE: REFERENCE TARGETS MINPODS MAXPODS REPLICAS. */
export function hpaRow(obj: HorizontalPodAutoscaler | HPAv1): (string | number)[] {
  const ref = obj.spec?.scaleTargetRef;
  const reference = `${ref?.kind ?? ''}/${ref?.name ?? ''}`;
  let targets: string;
  if (obj.apiVersion === 'autoscaling/v1') {
    const v1 = obj as HPAv1;
    const target = v1.spec?.targetCPUUtilizationPercentage;
    const cur = v1.status?.currentCPUUtilizationPercentage;
    targets = target === undefined ? '<none>' : `cpu: ${cur === undefined ? '<unknown>' : `${cur}%`}/${target}%`;
  } else {
    targets = hpaTargets(obj as HorizontalPodAutoscaler);
  }
  const min = obj.spec?.minReplicas;
  return [reference, targets, min === undefined ? '<unset>' : min, obj.spec?.maxReplicas ?? 0, obj.status?.currentReplicas ?? 0];
}
