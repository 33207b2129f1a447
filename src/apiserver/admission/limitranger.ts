/**
 * The LimitRanger admission plugin (Kubernetes' `plugin/pkg/admission/limitranger`), on pod and
 * PersistentVolumeClaim create: each LimitRange of the namespace in turn first fills in the
 * container defaults it names (`default` → limits, `defaultRequest` → requests, recorded in the
 * `kubernetes.io/limit-ranger` annotation), then its min / max / maxLimitRequestRatio are checked
 * per Container, per Pod (sums) and per PersistentVolumeClaim (storage). Any violation refuses
 * the object with 403 `pods "x" is forbidden: maximum cpu usage per Container is 1, but limit is 2`.
 */
import type { LimitRange, LimitRangeItem, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { compareQuantity, cpuToMillis, formatQuantity } from '../../api/quantity.js';
import { podTotals } from '../../api/quota.js';
import type { Container, Pod } from '../../api/types.js';
import type { AdmissionPlugin, AdmissionRequest } from '../admission.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

type ResourceList = Record<string, string>;

/**
 * Fills in the Container defaults of `lr` on every container of `pod` (in place) and returns
 * the annotation text Kubernetes records, or undefined when nothing was set.
 */
export function mergeLimitRangeDefaults(pod: Pod, lr: LimitRange): string | undefined {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    Object.assign(limits, item.default ?? {});
    Object.assign(requests, item.defaultRequest ?? {});
  }
  if (!Object.keys(limits).length && !Object.keys(requests).length) return undefined;
  const notes: string[] = [];
  const merge = (c: Container, what: string) => {
    const res = (c.resources ??= {});
    const setLimits: string[] = [];
    const setRequests: string[] = [];
    for (const [k, v] of Object.entries(limits)) {
      if (res.limits?.[k] === undefined) { (res.limits ??= {})[k] = v; setLimits.push(k); }
    }
    for (const [k, v] of Object.entries(requests)) {
      if (res.requests?.[k] === undefined) { (res.requests ??= {})[k] = v; setRequests.push(k); }
    }
    if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${what} ${c.name}`);
    if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${what} ${c.name}`);
  };
  for (const c of pod.spec?.containers ?? []) merge(c, 'container');
  for (const c of pod.spec?.initContainers ?? []) merge(c, 'init container');
  if (!notes.length) return undefined;
  return `LimitRanger plugin set: ${notes.join('; ')}`;
}

type Check = (type: string, resource: string, enforced: string, request: ResourceList, limit: ResourceList) => string | undefined;

const minConstraint: Check = (type, r, enforced, request, limit) => {
  const e = formatQuantity(enforced);
  if (request[r] === undefined) return `minimum ${r} usage per ${type} is ${e}.  No request is specified`;
  if (compareQuantity(request[r], enforced) < 0) return `minimum ${r} usage per ${type} is ${e}, but request is ${formatQuantity(request[r])}`;
  if (limit[r] !== undefined && compareQuantity(limit[r], enforced) < 0) return `minimum ${r} usage per ${type} is ${e}, but limit is ${formatQuantity(limit[r])}`;
  return undefined;
};

const maxConstraint: Check = (type, r, enforced, request, limit) => {
  const e = formatQuantity(enforced);
  if (limit[r] === undefined) return `maximum ${r} usage per ${type} is ${e}.  No limit is specified`;
  if (compareQuantity(limit[r], enforced) > 0) return `maximum ${r} usage per ${type} is ${e}, but limit is ${formatQuantity(limit[r])}`;
  if (request[r] !== undefined && compareQuantity(request[r], enforced) > 0) return `maximum ${r} usage per ${type} is ${e}, but request is ${formatQuantity(request[r])}`;
  return undefined;
};

const maxRequestConstraint: Check = (type, r, enforced, request) => {
  const e = formatQuantity(enforced);
  if (request[r] === undefined) return `maximum ${r} usage per ${type} is ${e}.  No request is specified`;
  if (compareQuantity(request[r], enforced) > 0) return `maximum ${r} usage per ${type} is ${e}, but request is ${formatQuantity(request[r])}`;
  return undefined;
};

const ratioConstraint: Check = (type, r, enforced, request, limit) => {
  const head = `${r} max limit to request ratio per ${type} is ${formatQuantity(enforced)}`;
  // MilliValues, as Kubernetes compares them (`cpuToMillis` is MilliValue for any resource).
  const req = request[r] === undefined ? 0 : cpuToMillis(request[r]);
  const lim = limit[r] === undefined ? 0 : cpuToMillis(limit[r]);
  if (req === 0) return `${head}, but no request is specified or request is 0`;
  if (lim === 0) return `${head}, but no limit is specified or limit is 0`;
  const ratio = lim / req;
  if (ratio * 1000 > cpuToMillis(enforced)) return `${head}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
};

function runChecks(item: LimitRangeItem, type: string, request: ResourceList, limit: ResourceList, maxCheck: Check, out: string[]): void {
  const push = (m: string | undefined) => { if (m) out.push(m); };
  for (const [k, v] of Object.entries(item.min ?? {})) push(minConstraint(type, k, v, request, limit));
  for (const [k, v] of Object.entries(item.max ?? {})) push(maxCheck(type, k, v, request, limit));
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) push(ratioConstraint(type, k, v, request, limit));
}

/** The violations of `lr` by `pod`, in Kubernetes' order (containers, init containers, then the pod). */
export function podLimitViolations(pod: Pod, lr: LimitRange): string[] {
  const out: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type === 'Container') {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
        runChecks(item, 'Container', c.resources?.requests ?? {}, c.resources?.limits ?? {}, maxConstraint, out);
      }
    } else if (item.type === 'Pod') {
      runChecks(item, 'Pod', podTotals(pod, 'requests'), podTotals(pod, 'limits'), maxConstraint, out);
    }
  }
  return out;
}

/** The violations of `lr` by a claim's storage request. */
export function claimLimitViolations(pvc: PersistentVolumeClaim, lr: LimitRange): string[] {
  const out: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    runChecks({ ...item, maxLimitRequestRatio: undefined }, 'PersistentVolumeClaim', pvc.spec?.resources?.requests ?? {}, {}, maxRequestConstraint, out);
  }
  return out;
}

/** Kubernetes' aggregate error text: one message as is, several as `[a, b]` (duplicates dropped). */
export function aggregateMessage(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

/** 403 `<resource> "name" is forbidden: <message>` (the name is left out while generated). */
export function forbiddenFor(req: AdmissionRequest, message: string): ApiError {
  // The group-qualified resource, as Kubernetes names it (`deployments.apps`).
  const resource = req.def.group ? `${req.def.resource}.${req.def.group}` : req.def.resource;
  const subject = req.name ? `${resource} ${JSON.stringify(req.name)}` : resource;
  return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${message}`, [], { name: req.name, kind: req.def.resource });
}

export const limitRangerAdmission: AdmissionPlugin = {
  name: 'LimitRanger',
  async admit(req, objects) {
    if (req.def.group !== '' || (req.def.resource !== 'pods' && req.def.resource !== 'persistentvolumeclaims')) return;
    const ranges = (await objects.list('', 'limitranges', req.namespace)) as LimitRange[];
    if (!ranges.length) return;
    ranges.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const problems: string[] = [];
    if (req.def.resource === 'pods') {
      const pod = req.object as Pod;
      if (!pod.spec) return;
      for (const lr of ranges) {
        const note = mergeLimitRangeDefaults(pod, lr);
        if (note) ((pod.metadata ??= {}).annotations ??= {})[LIMIT_RANGER_ANNOTATION] = note;
      }
      for (const lr of ranges) problems.push(...podLimitViolations(pod, lr));
    } else {
      for (const lr of ranges) problems.push(...claimLimitViolations(req.object as PersistentVolumeClaim, lr));
    }
    if (problems.length) throw forbiddenFor(req, aggregateMessage(problems));
  },
};
