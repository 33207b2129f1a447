/**
 * Validation of the `apps/v1` kinds, Deployment and ReplicaSet, as Kubernetes does it
 * (`pkg/apis/apps/validation/validation.go` plus the update rules of their registry strategies),
 * with Kubernetes' field paths and messages, e.g.
 *
 *     spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`
 *     spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0
 *
 * Expects defaults applied first (`applyDeploymentDefaults`, `applyReplicaSetDefaults`), as the
 * API server does. The pod template is checked with the pod validation, under
 * `spec.template.spec`. Status fields are checked too (they only change through the status
 * subresource, so on other writes they are the stored, already valid ones). Pure functions;
 * they never throw for user mistakes.
 */
import type {
  Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy, LabelSelector, PodTemplateSpec, ReplicaSet,
  ReplicaSetSpec, ReplicaSetStatus, RollingUpdateDeployment,
} from './types.js';
import type { FieldError } from './errors.js';
import { forbidden, invalidFormatted, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import { fromLabelSelector, matches, type Selector } from './labels.js';
import { validateAnnotations, validateLabelSelector, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { goIntOrString, goLabelSelector, goStringMap } from './gofmt.js';
import { nameIsDNSSubdomain, regexError } from './names.js';
import { validatePodSpec } from './podvalidation.js';

const NEGATIVE = 'must be greater than or equal to 0';
const PERCENT_FMT = '[0-9]+%';
const STRATEGY_TYPES = ['Recreate', 'RollingUpdate'];

type Scalar = number | string | undefined | null;

/**
 * A non-negative integer field (`ValidateNonnegativeField`). Unset is fine (defaults fill what
 * must be set). A value that is not an integer at all is reported here; Kubernetes would refuse
 * it earlier, when decoding.
 */
export function nonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [invalidValue(path, value, 'must be an integer')];
  return value < 0 ? [invalidValue(path, value, NEGATIVE)] : [];
}

const isPercent = (s: string): boolean => /^[0-9]+%$/.test(s);

/** Go's `strconv.Atoi`, 0 when it fails (as `IntOrString.IntValue` returns). */
const atoi = (s: string): number => (/^[+-]?[0-9]+$/.test(s) ? Number.parseInt(s, 10) : 0);

/** The number an int-or-percent stands for, ignoring the percent sign (`getIntOrPercentValue`). */
export function intOrPercentValue(v: Scalar): number {
  if (typeof v === 'string') return isPercent(v) ? Number.parseInt(v.slice(0, -1), 10) : atoi(v);
  return typeof v === 'number' ? v : 0;
}

/** An int (≥ 0) or a percent string (`ValidatePositiveIntOrPercent`). */
export function validateIntOrPercent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string') {
    if (isPercent(v)) return [];
    return [invalidFormatted(path, goIntOrString(v), regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, '1%', '93%'))];
  }
  if (typeof v === 'number' && Number.isInteger(v)) return nonNegative(v, path);
  return [invalidFormatted(path, goIntOrString(v), "must be an integer or percentage (e.g '5%%')")];
}

function validateRollingUpdate(ru: RollingUpdateDeployment, path: string): FieldError[] {
  const errs = [
    ...validateIntOrPercent(ru.maxUnavailable, `${path}.maxUnavailable`),
    ...validateIntOrPercent(ru.maxSurge, `${path}.maxSurge`),
  ];
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
    errs.push(invalidFormatted(`${path}.maxUnavailable`, goIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
  }
  const mu = ru.maxUnavailable;
  if (typeof mu === 'string' && isPercent(mu) && intOrPercentValue(mu) > 100) {
    errs.push(invalidFormatted(`${path}.maxUnavailable`, goIntOrString(mu), 'must not be greater than 100%'));
  }
  return errs;
}

/**
 * `spec.strategy`: `RollingUpdate` (with its `rollingUpdate`) or `Recreate` (without one). An
 * unknown type is reported on the whole strategy, printed as Kubernetes prints the struct (Go
 * prints a set `rollingUpdate` as a pointer address, which cannot be reproduced; a fixed one
 * stands in for it).
 */
function validateStrategy(strategy: DeploymentStrategy | undefined, path: string): FieldError[] {
  const s = strategy ?? {};
  const hasRollingUpdate = s.rollingUpdate !== undefined && s.rollingUpdate !== null;
  switch (s.type) {
    case 'Recreate':
      return hasRollingUpdate ? [forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate':
      return hasRollingUpdate
        ? validateRollingUpdate(s.rollingUpdate as RollingUpdateDeployment, `${path}.rollingUpdate`)
        : [requiredWithDetail(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
    default: {
      const ru = hasRollingUpdate ? '(*apps.RollingUpdateDeployment)(0xc000000000)' : '(*apps.RollingUpdateDeployment)(nil)';
      const formatted = `apps.DeploymentStrategy{Type:${JSON.stringify(s.type ?? '')}, RollingUpdate:${ru}}`;
      return [{ field: path, type: 'FieldValueNotSupported', message: `Unsupported value: ${formatted}: supported values: ${STRATEGY_TYPES.map((t) => `"${t}"`).join(', ')}` }];
    }
  }
}

/**
 * `spec.selector`: required, valid, and not empty. Returns the parsed selector, or undefined when
 * it cannot be parsed (then `spec.selector: Invalid value: ...: invalid label selector` is
 * reported and the template is not checked, as in Kubernetes). A missing selector parses to
 * "nothing", so the template's labels then never match it.
 */
export function validateSelector(ls: LabelSelector | undefined | null, path: string, errs: FieldError[], allowEmpty = false): Selector | undefined {
  if (!ls) {
    errs.push(required(path));
  } else {
    errs.push(...validateLabelSelector(ls, path));
    const n = Object.keys(ls.matchLabels ?? {}).length + (Array.isArray(ls.matchExpressions) ? ls.matchExpressions.length : 0);
    if (n === 0 && !allowEmpty) errs.push(invalidFormatted(path, goLabelSelector(ls), 'empty selector is invalid for deployment'));
  }
  const parsed = fromLabelSelector(ls);
  if (!parsed.ok) {
    errs.push(invalidFormatted(path, goLabelSelector(ls ?? {}), 'invalid label selector'));
    return undefined;
  }
  return parsed.selector;
}

/**
 * What every controller's pod template must satisfy: labels that match the selector, valid
 * metadata and pod spec, no ephemeral containers. The kinds add their own rules on top.
 */
export function validatePodTemplate(template: PodTemplateSpec | undefined, selector: Selector, path: string): FieldError[] {
  const t: PodTemplateSpec = template ?? {};
  const errs: FieldError[] = [];
  const labels = t.metadata?.labels;
  if (!(selector.requirements.length === 0 && !selector.nothing) && !matches(selector, labels)) {
    errs.push(invalidFormatted(`${path}.metadata.labels`, goStringMap(labels), '`selector` does not match template `labels`'));
  }
  // Kubernetes checks the template's labels and annotations under `template.labels`, without `metadata`.
  errs.push(...validateLabels(labels, `${path}.labels`));
  errs.push(...validateAnnotations(t.metadata?.annotations, `${path}.annotations`));
  errs.push(...validatePodSpec(t.spec, `${path}.spec`));
  if ((t.spec?.ephemeralContainers ?? []).length > 0) {
    errs.push(forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

/**
 * The pod template of a ReplicaSet, Deployment, DaemonSet or StatefulSet
 * (`ValidatePodTemplateSpecForReplicaSet`): {@link validatePodTemplate}, and its restart
 * policy must be `Always`, and it may not set `activeDeadlineSeconds`.
 */
export function validateTemplate(template: PodTemplateSpec | undefined, selector: Selector, path: string, kind = 'ReplicaSet'): FieldError[] {
  const t: PodTemplateSpec = template ?? {};
  const errs = validatePodTemplate(template, selector, path);
  const restart = t.spec?.restartPolicy ?? '';
  if (restart !== 'Always') errs.push(notSupported(`${path}.spec.restartPolicy`, restart, ['Always']));
  if (t.spec?.activeDeadlineSeconds !== undefined && t.spec.activeDeadlineSeconds !== null) {
    errs.push(forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** The spec of a Deployment (`ValidateDeploymentSpec`). */
export function validateDeploymentSpec(spec: DeploymentSpec | undefined, path = 'spec'): FieldError[] {
  const s: Partial<DeploymentSpec> = spec ?? {};
  const errs = nonNegative(s.replicas, `${path}.replicas`);
  const selector = validateSelector(s.selector, `${path}.selector`, errs);
  if (selector) errs.push(...validateTemplate(s.template, selector, `${path}.template`));
  errs.push(...validateStrategy(s.strategy, `${path}.strategy`));
  errs.push(...nonNegative(s.minReadySeconds, `${path}.minReadySeconds`));
  errs.push(...nonNegative(s.revisionHistoryLimit, `${path}.revisionHistoryLimit`));
  const deadline = s.progressDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) {
    errs.push(...nonNegative(deadline, `${path}.progressDeadlineSeconds`));
    if (typeof deadline === 'number' && deadline <= (typeof s.minReadySeconds === 'number' ? s.minReadySeconds : 0)) {
      errs.push(invalidValue(`${path}.progressDeadlineSeconds`, deadline, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** The spec of a ReplicaSet (`ValidateReplicaSetSpec`). */
export function validateReplicaSetSpec(spec: ReplicaSetSpec | undefined, path = 'spec'): FieldError[] {
  const s: Partial<ReplicaSetSpec> = spec ?? {};
  const errs = [...nonNegative(s.replicas, `${path}.replicas`), ...nonNegative(s.minReadySeconds, `${path}.minReadySeconds`)];
  const selector = validateSelector(s.selector, `${path}.selector`, errs);
  if (selector) errs.push(...validateTemplate(s.template, selector, `${path}.template`));
  return errs;
}

/** Counts that may not exceed `status.replicas`, and available ≤ ready. */
function replicaCounts(status: Record<string, unknown>, fields: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of fields) errs.push(...nonNegative(status[f], `${path}.${f}`));
  const n = (f: string): number => (typeof status[f] === 'number' ? status[f] as number : 0);
  for (const f of ['updatedReplicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) {
    if (fields.includes(f) && n(f) > n('replicas')) errs.push(invalidValue(`${path}.${f}`, n(f), 'cannot be greater than status.replicas'));
  }
  if (n('availableReplicas') > n('readyReplicas')) errs.push(invalidValue(`${path}.availableReplicas`, n('availableReplicas'), 'cannot be greater than readyReplicas'));
  return errs;
}

/** A Deployment's status (`ValidateDeploymentStatus`); `old` adds "collisionCount cannot be decremented". */
export function validateDeploymentStatus(status: DeploymentStatus | undefined, old?: DeploymentStatus, path = 'status'): FieldError[] {
  const s = (status ?? {}) as Record<string, unknown>;
  const errs = replicaCounts(s, ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'], path);
  const was = old?.collisionCount;
  if (typeof was === 'number' && (typeof s.collisionCount !== 'number' || s.collisionCount < was)) {
    errs.push(invalidValue(`${path}.collisionCount`, typeof s.collisionCount === 'number' ? s.collisionCount : 0, 'cannot be decremented'));
  }
  return errs;
}

/** A ReplicaSet's status (`ValidateReplicaSetStatus`). */
export function validateReplicaSetStatus(status: ReplicaSetStatus | undefined, path = 'status'): FieldError[] {
  return replicaCounts((status ?? {}) as Record<string, unknown>, ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'], path);
}

/** Canonical JSON with sorted keys, empty maps and lists as absent (Kubernetes' semantic equality). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v.map(canonical) : undefined;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v ?? undefined;
}

export const semanticallyEqual = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a) ?? null) === JSON.stringify(canonical(b) ?? null);

/** `spec.selector: Invalid value: v1.LabelSelector{...}: field is immutable` (apps/v1 forbids changing it). */
export function selectorUnchanged(next: LabelSelector | undefined, old: LabelSelector | undefined, path: string): FieldError[] {
  if (semanticallyEqual(next ?? null, old ?? null)) return [];
  return [invalidFormatted(path, next ? goLabelSelector(next) : '"null"', 'field is immutable')];
}

/**
 * A Deployment on create, or on update when `old` is given (then its metadata rules for updates
 * apply and the selector may not change).
 */
export function validateDeployment(d: Deployment, old?: Deployment): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(d.metadata, old.metadata) : validateObjectMeta(d.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateDeploymentSpec(d.spec));
  if (old) errs.push(...selectorUnchanged(d.spec?.selector, old.spec?.selector, 'spec.selector'));
  errs.push(...validateDeploymentStatus(d.status, old?.status));
  return errs;
}

/** A ReplicaSet on create, or on update when `old` is given (the selector may not change). */
export function validateReplicaSet(rs: ReplicaSet, old?: ReplicaSet): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(rs.metadata, old.metadata) : validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateReplicaSetSpec(rs.spec));
  if (old) errs.push(...selectorUnchanged(rs.spec?.selector, old.spec?.selector, 'spec.selector'));
  errs.push(...validateReplicaSetStatus(rs.status));
  return errs;
}
