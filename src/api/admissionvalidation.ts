/**
 * Defaults and validation of the admission-policy kinds, LimitRange and ResourceQuota (core/v1),
 * as Kubernetes' `SetDefaults_LimitRangeItem`, `ValidateLimitRange` and `ValidateResourceQuota`
 * do them, with their field paths and messages.
 */
import type { LimitRange, LimitRangeItem, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { duplicate, forbidden, invalidValue, notSupported, required, type FieldError } from './errors.js';
import { nameIsDNSSubdomain } from './names.js';
import { checkQuantity } from './podvalidation.js';
import { compareQuantity, formatQuantity, quantityValue, type Quantity } from './quantity.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';

export const LIMIT_TYPES = ['Container', 'Pod', 'PersistentVolumeClaim'] as const;

/**
 * Kubernetes' LimitRange defaulting, per Container item: a missing default limit is the max, a
 * missing default request is the default limit, else the min. Called on create and update.
 */
export function applyLimitRangeDefaults(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    const def = (item.default ??= {});
    const defReq = (item.defaultRequest ??= {});
    for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in defReq)) defReq[k] = v;
  }
}

type ResourceList = Record<string, string>;

/** Parses every quantity of `list` at `path`, collecting errors; returns the well-formed ones. */
function quantities(list: ResourceList | undefined, path: string, errs: FieldError[]): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const [k, raw] of Object.entries(list ?? {})) {
    const q = checkQuantity(k, raw, `${path}[${k}]`, errs);
    if (q) out.set(k, q);
  }
  return out;
}

function validateLimitItem(item: LimitRangeItem, path: string, errs: FieldError[]): void {
  const max = quantities(item.max, `${path}.max`, errs);
  const min = quantities(item.min, `${path}.min`, errs);
  const def = quantities(item.default, `${path}.default`, errs);
  const defReq = quantities(item.defaultRequest, `${path}.defaultRequest`, errs);
  const ratio = quantities(item.maxLimitRequestRatio, `${path}.maxLimitRequestRatio`, errs);
  if (item.type === 'Pod') {
    if (def.size) errs.push(forbidden(`${path}.default`, "may not be specified when `type` is 'Pod'"));
    if (defReq.size) errs.push(forbidden(`${path}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
  } else if (item.type === 'PersistentVolumeClaim') {
    const minS = min.get('storage');
    const maxS = max.get('storage');
    if (!minS && !maxS) errs.push(required(`${path}.limits`));
    if (minS && maxS && compareQuantity(minS, maxS) > 0) {
      errs.push(invalidValue(`${path}.min[storage]`, formatQuantity(minS), `min value ${formatQuantity(minS)} is greater than max value ${formatQuantity(maxS)}`));
    }
  }
  const keys = new Set([...max.keys(), ...min.keys(), ...def.keys(), ...defReq.keys(), ...ratio.keys()]);
  for (const k of keys) {
    const s = (q: Quantity) => formatQuantity(q);
    const mx = max.get(k), mn = min.get(k), d = def.get(k), dr = defReq.get(k), r = ratio.get(k);
    if (mn && mx && compareQuantity(mn, mx) > 0) errs.push(invalidValue(`${path}.min[${k}]`, s(mn), `min value ${s(mn)} is greater than max value ${s(mx)}`));
    if (dr && mn && compareQuantity(mn, dr) > 0) errs.push(invalidValue(`${path}.defaultRequest[${k}]`, s(dr), `min value ${s(mn)} is greater than default request value ${s(dr)}`));
    if (dr && mx && compareQuantity(dr, mx) > 0) errs.push(invalidValue(`${path}.defaultRequest[${k}]`, s(dr), `default request value ${s(dr)} is greater than max value ${s(mx)}`));
    if (dr && d && compareQuantity(dr, d) > 0) errs.push(invalidValue(`${path}.defaultRequest[${k}]`, s(dr), `default request value ${s(dr)} is greater than default limit value ${s(d)}`));
    if (d && mn && compareQuantity(mn, d) > 0) errs.push(invalidValue(`${path}.default[${k}]`, s(mn), `min value ${s(mn)} is greater than default value ${s(d)}`));
    if (d && mx && compareQuantity(d, mx) > 0) errs.push(invalidValue(`${path}.default[${k}]`, s(mx), `default value ${s(d)} is greater than max value ${s(mx)}`));
    if (r && compareQuantity(r, 1) < 0) errs.push(invalidValue(`${path}.maxLimitRequestRatio[${k}]`, s(r), `ratio ${s(r)} is less than 1`));
    if (r && mn && mx && quantityValue(mn) > 0) {
      const maxRatio = quantityValue(mx) / quantityValue(mn);
      if (quantityValue(r) > maxRatio) errs.push(invalidValue(`${path}.maxLimitRequestRatio[${k}]`, s(r), `ratio ${s(r)} is greater than max/min = ${maxRatio.toFixed(6)}`));
    }
  }
}

/** `ValidateLimitRange`: names, one item per type, well-formed quantities, min ≤ defaults ≤ max. */
export function validateLimitRange(lr: LimitRange, old?: LimitRange): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(lr.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(lr.metadata, true, nameIsDNSSubdomain));
  const seen = new Set<string>();
  (lr.spec?.limits ?? []).forEach((item, i) => {
    const path = `spec.limits[${i}]`;
    if (!item.type) errs.push(required(`${path}.type`));
    else if (!(LIMIT_TYPES as readonly string[]).includes(item.type)) errs.push(notSupported(`${path}.type`, item.type, [...LIMIT_TYPES]));
    else if (seen.has(item.type)) errs.push(duplicate(`${path}.type`, item.type));
    seen.add(item.type);
    validateLimitItem(item, path, errs);
  });
  return errs;
}

/** Resource names a quota may constrain (`IsStandardQuotaResourceName`, plus `count/<resource>.<group>`). */
export const QUOTA_RESOURCES = [
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers', 'cpu', 'memory', 'ephemeral-storage', 'storage',
  'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
];
/** The scopes the quota admission and controller honour (PriorityClass and CrossNamespacePodAffinity are refused). */
export const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort'];

function validateQuotaResourceName(name: string, path: string): FieldError[] {
  if (QUOTA_RESOURCES.includes(name) || /^count\/[a-z0-9.-]+$/.test(name) || /^(requests\.)?[a-z0-9.-]+\/[a-zA-Z0-9._-]+$/.test(name)) return [];
  return [invalidValue(path, name, 'must be a standard resource for quota')];
}

/** `ValidateResourceQuota`: names, resource names, non-negative quantities, known scopes. */
export function validateResourceQuota(q: ResourceQuota, old?: ResourceQuota): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(q.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(q.metadata, true, nameIsDNSSubdomain));
  for (const k of Object.keys(q.spec?.hard ?? {})) errs.push(...validateQuotaResourceName(k, `spec.hard[${k}]`));
  quantities(q.spec?.hard, 'spec.hard', errs);
  quantities(q.status?.hard, 'status.hard', errs);
  quantities(q.status?.used, 'status.used', errs);
  (q.spec?.scopes ?? []).forEach((s, i) => {
    if (!QUOTA_SCOPES.includes(s)) errs.push(notSupported(`spec.scopes[${i}]`, s, QUOTA_SCOPES));
  });
  if (q.spec?.scopeSelector) errs.push(forbidden('spec.scopeSelector', 'not supported by minikube-lite; use spec.scopes'));
  return errs;
}
