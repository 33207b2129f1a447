/**
 * Validation of HorizontalPodAutoscaler (autoscaling/v2 as stored), as Kubernetes'
 * `ValidateHorizontalPodAutoscaler` words it: the scale target reference, `minReplicas >= 1`,
 * `maxReplicas >= minReplicas`, each metric's source and target, the behavior's rules; and the
 * warnings for metric types minikube-lite has no metrics API for (Pods, Object, External need a
 * custom or external metrics server: Kubernetes accepts them, and so does minikube-lite, but
 * the controller will report `ScalingActive=False` for them).
 */
import type {
  CrossVersionObjectReference, HorizontalPodAutoscaler, HPAScalingRules, MetricIdentifier, MetricSpec, MetricTarget,
} from 'kubernetes-types/autoscaling/v2.js';
import { invalidValue, notSupported, required, requiredWithDetail, forbidden, type FieldError } from './errors.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';
import { parseQuantity } from './quantity.js';

export const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_FIELD: Record<string, keyof MetricSpec> = {
  ContainerResource: 'containerResource', External: 'external', Object: 'object', Pods: 'pods', Resource: 'resource',
};
export const METRIC_TARGET_TYPES = ['AverageValue', 'Utilization', 'Value'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_SECONDS = 3600;

/** Path-segment names (`ValidatePathSegmentName`): no `.`/`..`, no `/` or `%`. */
function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

function validateTargetRef(ref: CrossVersionObjectReference | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref?.kind) errs.push(required(`${path}.kind`));
  else for (const msg of pathSegmentErrors(ref.kind)) errs.push(invalidValue(`${path}.kind`, ref.kind, msg));
  if (!ref?.name) errs.push(required(`${path}.name`));
  else for (const msg of pathSegmentErrors(ref.name)) errs.push(invalidValue(`${path}.name`, ref.name, msg));
  return errs;
}

function positiveQuantity(v: string | undefined, path: string): FieldError[] {
  if (v === undefined) return [];
  const q = parseQuantity(v);
  if (!q.ok) return [invalidValue(path, v, q.error)];
  return q.value <= 0 ? [invalidValue(path, v, 'must be positive')] : [];
}

function validateTarget(t: MetricTarget | undefined, path: string): FieldError[] {
  if (!t?.type) return [required(`${path}.type`)];
  const errs: FieldError[] = [];
  if (!METRIC_TARGET_TYPES.includes(t.type)) errs.push(notSupported(`${path}.type`, t.type, METRIC_TARGET_TYPES));
  if (t.averageUtilization !== undefined && t.averageUtilization < 1) errs.push(invalidValue(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  errs.push(...positiveQuantity(t.value, `${path}.value`), ...positiveQuantity(t.averageValue, `${path}.averageValue`));
  if (t.type === 'Utilization' && t.averageUtilization === undefined) errs.push(requiredWithDetail(`${path}.averageUtilization`, 'must set averageUtilization when type is Utilization'));
  if (t.type === 'Value' && t.value === undefined) errs.push(requiredWithDetail(`${path}.value`, 'must set value when type is Value'));
  if (t.type === 'AverageValue' && t.averageValue === undefined) errs.push(requiredWithDetail(`${path}.averageValue`, 'must set averageValue when type is AverageValue'));
  return errs;
}

function validateIdentifier(id: MetricIdentifier | undefined, path: string): FieldError[] {
  if (!id?.name) return [required(`${path}.name`)];
  return [...pathSegmentErrors(id.name).map((m) => invalidValue(`${path}.name`, id.name, m)), ...validateLabelSelector(id.selector, `${path}.selector`)];
}

function validateMetric(m: MetricSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const populated = METRIC_SOURCE_TYPES.filter((t) => m[SOURCE_FIELD[t]] !== undefined && m[SOURCE_FIELD[t]] !== null);
  if (!m.type) {
    errs.push(required(`${path}.type`));
    return errs;
  }
  if (!METRIC_SOURCE_TYPES.includes(m.type)) {
    errs.push(notSupported(`${path}.type`, m.type, METRIC_SOURCE_TYPES));
    return errs;
  }
  if (!populated.includes(m.type)) errs.push(requiredWithDetail(`${path}.${SOURCE_FIELD[m.type]}`, 'must populate information for the given metric source'));
  if (populated.some((t) => t !== m.type)) errs.push(forbidden(path, 'must populate the given metric source only'));
  if (m.type === 'Resource' && m.resource) {
    const p = `${path}.resource`;
    if (!m.resource.name) errs.push(required(`${p}.name`));
    errs.push(...validateTarget(m.resource.target, `${p}.target`));
    if (m.resource.target?.type === 'Value') errs.push(notSupported(`${p}.target.type`, 'Value', ['Utilization', 'AverageValue']));
  }
  if (m.type === 'ContainerResource' && m.containerResource) {
    const p = `${path}.containerResource`;
    if (!m.containerResource.name) errs.push(required(`${p}.name`));
    if (!m.containerResource.container) errs.push(required(`${p}.container`));
    errs.push(...validateTarget(m.containerResource.target, `${p}.target`));
    if (m.containerResource.target?.type === 'Value') errs.push(notSupported(`${p}.target.type`, 'Value', ['Utilization', 'AverageValue']));
  }
  if (m.type === 'Pods' && m.pods) {
    const p = `${path}.pods`;
    errs.push(...validateIdentifier(m.pods.metric, `${p}.metric`), ...validateTarget(m.pods.target, `${p}.target`));
    if (m.pods.target?.type && m.pods.target.type !== 'AverageValue') errs.push(notSupported(`${p}.target.type`, m.pods.target.type, ['AverageValue']));
  }
  if (m.type === 'Object' && m.object) {
    const p = `${path}.object`;
    errs.push(...validateTargetRef(m.object.describedObject, `${p}.describedObject`));
    errs.push(...validateIdentifier(m.object.metric, `${p}.metric`), ...validateTarget(m.object.target, `${p}.target`));
    if (m.object.target?.type && !['Value', 'AverageValue'].includes(m.object.target.type)) errs.push(notSupported(`${p}.target.type`, m.object.target.type, ['Value', 'AverageValue']));
  }
  if (m.type === 'External' && m.external) {
    const p = `${path}.external`;
    errs.push(...validateIdentifier(m.external.metric, `${p}.metric`), ...validateTarget(m.external.target, `${p}.target`));
    if (m.external.target?.type && !['Value', 'AverageValue'].includes(m.external.target.type)) errs.push(notSupported(`${p}.target.type`, m.external.target.type, ['Value', 'AverageValue']));
  }
  return errs;
}

function validateRules(r: HPAScalingRules | undefined, path: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && (w < 0 || w > MAX_STABILIZATION_SECONDS)) {
    errs.push(invalidValue(`${path}.stabilizationWindowSeconds`, w, w < 0 ? 'must be greater than or equal to zero' : `must be less than or equal to ${MAX_STABILIZATION_SECONDS}`));
  }
  if (r.selectPolicy !== undefined && !SELECT_POLICIES.includes(r.selectPolicy)) errs.push(notSupported(`${path}.selectPolicy`, r.selectPolicy, SELECT_POLICIES));
  if (!r.policies?.length) errs.push(requiredWithDetail(`${path}.policies`, 'must specify at least one Policy'));
  (r.policies ?? []).forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (!POLICY_TYPES.includes(p.type)) errs.push(notSupported(`${pp}.type`, p.type, POLICY_TYPES));
    if (p.value <= 0) errs.push(invalidValue(`${pp}.value`, p.value, 'must be greater than zero'));
    if (p.periodSeconds <= 0) errs.push(invalidValue(`${pp}.periodSeconds`, p.periodSeconds, 'must be greater than zero'));
    else if (p.periodSeconds > MAX_PERIOD_SECONDS) errs.push(invalidValue(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

/** `ValidateHorizontalPodAutoscaler` (and `...Update`: metadata immutables). Never throws. */
export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler, old?: HorizontalPodAutoscaler): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(hpa.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(hpa.metadata, true, nameIsDNSSubdomain));
  const spec = hpa.spec;
  errs.push(...validateTargetRef(spec?.scaleTargetRef, 'spec.scaleTargetRef'));
  const min = spec?.minReplicas;
  const max = spec?.maxReplicas ?? 0;
  if (min !== undefined && min < 1) errs.push(invalidValue('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalidValue('spec.maxReplicas', max, 'must be greater than 0'));
  if (min !== undefined && max < min) errs.push(invalidValue('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  (spec?.metrics ?? []).forEach((m, i) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  if (spec?.behavior) {
    errs.push(...validateRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'), ...validateRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  const st = hpa.status;
  if (st?.currentReplicas !== undefined && st.currentReplicas < 0) errs.push(invalidValue('status.currentReplicas', st.currentReplicas, 'must be greater than or equal to 0'));
  if (st?.desiredReplicas !== undefined && st.desiredReplicas < 0) errs.push(invalidValue('status.desiredReplicas', st.desiredReplicas, 'must be greater than or equal to 0'));
  return errs;
}

/** Warnings for metrics the controller cannot read here (no custom or external metrics API). */
export function hpaWarnings(hpa: HorizontalPodAutoscaler): string[] {
  const out: string[] = [];
  for (const dir of ['scaleUp', 'scaleDown'] as const) {
    // Not in kubernetes-types' 1.32 types, but in the schema objects are decoded with.
    if ((hpa.spec?.behavior?.[dir] as { tolerance?: unknown } | undefined)?.tolerance !== undefined) {
      out.push(`spec.behavior.${dir}.tolerance: not honoured (a Kubernetes 1.33 alpha field; this cluster imitates 1.32): the controller's tolerance (0.1) applies`);
    }
  }
  (hpa.spec?.metrics ?? []).forEach((m, i) => {
    if (m.type === 'Pods' || m.type === 'Object') {
      out.push(`spec.metrics[${i}].type: ${m.type} metrics come from the custom.metrics.k8s.io API, which minikube-lite does not serve: this metric will not be available (ScalingActive=False)`);
    } else if (m.type === 'External') {
      out.push(`spec.metrics[${i}].type: External metrics come from the external.metrics.k8s.io API, which minikube-lite does not serve: this metric will not be available (ScalingActive=False)`);
    } else if ((m.type === 'Resource' || m.type === 'ContainerResource')) {
      const name = m.resource?.name ?? m.containerResource?.name;
      if (name && name !== 'cpu' && name !== 'memory') {
        out.push(`spec.metrics[${i}]: the resource metrics API reports only cpu and memory; "${name}" will not be available (ScalingActive=False)`);
      }
    }
  });
  return out;
}
