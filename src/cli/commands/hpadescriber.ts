/** `describe hpa` as kubectl prints it (`HorizontalPodAutoscalerDescriber`, autoscaling/v2). */
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { Event } from '../../api/types.js';
import { annotationsMultiline, describeEvents, multiline, Out, time } from './describers.js';

/** One `Metrics:` line: its label and `current / target`. */
function metricLine(spec: MetricSpec, status: MetricStatus | undefined): [string, string] {
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = spec.type === 'Resource' ? status?.resource?.current : status?.containerResource?.current;
      const on = spec.type === 'Resource' ? `resource ${src?.name ?? ''} on pods` : `resource ${src?.name ?? ''} of container "${spec.containerResource?.container ?? ''}" on pods`;
      if (src?.target.averageValue !== undefined) return [on, `${cur?.averageValue ?? '<unknown>'} / ${src.target.averageValue}`];
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}% (${cur.averageValue ?? ''})` : '<unknown>';
      return [`${on}  (as a percentage of request)`, `${current} / ${src?.target.averageUtilization ?? '<auto>'}%`];
    }
    case 'Pods':
      return [`"${spec.pods?.metric.name ?? ''}" on pods`, `${status?.pods?.current.averageValue ?? '<unknown>'} / ${spec.pods?.target.averageValue ?? ''}`];
    case 'Object': {
      const d = spec.object?.describedObject;
      return [`"${spec.object?.metric.name ?? ''}" on ${d?.kind ?? ''}/${d?.name ?? ''}`, `${status?.object?.current.value ?? '<unknown>'} / ${spec.object?.target.value ?? spec.object?.target.averageValue ?? ''}`];
    }
    case 'External':
      return [`"${spec.external?.metric.name ?? ''}" (target value)`, `${status?.external?.current.value ?? '<unknown>'} / ${spec.external?.target.value ?? spec.external?.target.averageValue ?? ''}`];
    default:
      return ['<unknown metric type>', ''];
  }
}

export function describeHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = hpa.metadata ?? {};
  const spec = hpa.spec;
  const st = hpa.status;
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `CreationTimestamp:\t${time(m.creationTimestamp)}\n`);
  out.w(0, `Reference:\t${spec?.scaleTargetRef.kind ?? ''}/${spec?.scaleTargetRef.name ?? ''}\n`);
  out.w(0, 'Metrics:\t( current / target )\n');
  (spec?.metrics ?? []).forEach((metric, i) => {
    const [label, value] = metricLine(metric, st?.currentMetrics?.[i]);
    out.w(1, `${label}:\t${value}\n`);
  });
  out.w(0, `Min replicas:\t${spec?.minReplicas ?? '<unset>'}\n`);
  out.w(0, `Max replicas:\t${spec?.maxReplicas ?? 0}\n`);
  const b = spec?.behavior;
  if (b) {
    out.w(0, 'Behavior:\n');
    for (const [title, r] of [['Scale Up', b.scaleUp], ['Scale Down', b.scaleDown]] as const) {
      if (!r) continue;
      out.w(1, `${title}:\n`);
      if (r.stabilizationWindowSeconds !== undefined) out.w(2, `Stabilization Window: ${r.stabilizationWindowSeconds} seconds\n`);
      out.w(2, `Select Policy: ${r.selectPolicy ?? ''}\n`);
      out.w(2, 'Policies:\n');
      for (const p of r.policies ?? []) out.w(3, `- Type: ${p.type}  Value: ${p.value}  Period: ${p.periodSeconds} seconds\n`);
    }
  }
  out.w(0, `${spec?.scaleTargetRef.kind ?? ''} pods:\t${st?.currentReplicas ?? 0} current / ${st?.desiredReplicas ?? 0} desired\n`);
  if (st?.conditions?.length) {
    out.w(0, 'Conditions:\n');
    out.w(1, 'Type\tStatus\tReason\tMessage\n');
    out.w(1, '----\t------\t------\t-------\n');
    for (const c of st.conditions) out.w(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
  describeEvents(out, events, now);
  return out.toString();
}
