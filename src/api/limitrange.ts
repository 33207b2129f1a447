/**
 * LimitRange (v1): its defaults (`SetDefaults_LimitRangeItem`), validation
 * (`ValidateLimitRange`), and the LimitRanger admission decision for a pod being created
 * (`plugin/pkg/admission/limitranger`): container limits and requests the pod leaves unset get the
 * ranges' defaults (and the `kubernetes.io/limit-ranger` annotation says which), then every
 * container and the pod as a whole are checked against min, max and maxLimitRequestRatio. Pure.
 */
import type { Container, LimitRange, LimitRangeItem } from 'kubernetes-types/core/v1.js';
import type { FieldError } from './errors.js';
import { invalidValue, notSupported } from './errors.js';
import { compareQuantity, formatQuantity, parseQuantity, addQuantity, type Quantity } from './quantity.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';
import type { Pod } from './types.js';

type Resources = Record<string, string | number>;
const TYPES = ['Container', 'Pod', 'PersistentVolumeClaim'];

/** Container items: default limit ← max, default request ← default limit, else ← min. */
export function applyLimitRangeDefaults(lr: LimitRange): void {
  for (const item of Array.isArray(lr.spec?.limits) ? lr.spec.limits : []) {
    if (item.type !== 'Container') continue;
    const def: Resources = (item.default ??= {});
    const req: Resources = (item.defaultRequest ??= {});
    for (const [k, v] of Object.entries(item.max ?? {})) def[k] ??= v;
    for (const [k, v] of Object.entries(def)) req[k] ??= v;
    for (const [k, v] of Object.entries(item.min ?? {})) req[k] ??= v;
  }
}

const q = (v: string | number): Quantity | undefined => {
  const r = parseQuantity(v);
  return r.ok ? r.quantity : undefined;
};

/** A LimitRange on create or update (`ValidateLimitRange`). */
export function validateLimitRange(lr: LimitRange, old?: LimitRange): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(lr.metadata, old.metadata) : validateObjectMeta(lr.metadata, true, nameIsDNSSubdomain);
  (lr.spec?.limits ?? []).forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    if (!TYPES.includes(item.type)) errs.push(notSupported(`${p}.type`, item.type, TYPES));
    for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) {
      for (const [k, v] of Object.entries(item[f] ?? {})) if (!q(v)) errs.push(invalidValue(`${p}.${f}[${k}]`, v, 'must be a valid quantity'));
    }
    if (item.type === 'Pod') {
      if (Object.keys(item.default ?? {}).length) errs.push({ field: `${p}.default`, type: 'FieldValueForbidden', message: 'Forbidden: may not be specified when `type` is \'Pod\'' });
      if (Object.keys(item.defaultRequest ?? {}).length) errs.push({ field: `${p}.defaultRequest`, type: 'FieldValueForbidden', message: 'Forbidden: may not be specified when `type` is \'Pod\'' });
    }
    const cmp = (a: string | number | undefined, b: string | number | undefined) => (a === undefined || b === undefined || !q(a) || !q(b) ? 0 : compareQuantity(a, b));
    const keys = new Set([...Object.keys(item.max ?? {}), ...Object.keys(item.min ?? {}), ...Object.keys(item.default ?? {}), ...Object.keys(item.defaultRequest ?? {})]);
    for (const k of keys) {
      const min = item.min?.[k], max = item.max?.[k], def = item.default?.[k], req = item.defaultRequest?.[k];
      if (cmp(min, max) > 0) errs.push(invalidValue(`${p}.min[${k}]`, String(min), `min value ${String(min)} is greater than max value ${String(max)}`));
      if (cmp(req, max) > 0) errs.push(invalidValue(`${p}.defaultRequest[${k}]`, String(req), `default request value ${String(req)} is greater than max value ${String(max)}`));
      if (cmp(min, req) > 0) errs.push(invalidValue(`${p}.defaultRequest[${k}]`, String(req), `min value ${String(min)} is greater than default request value ${String(req)}`));
      if (cmp(def, max) > 0) errs.push(invalidValue(`${p}.default[${k}]`, String(def), `default value ${String(def)} is greater than max value ${String(max)}`));
      if (cmp(min, def) > 0) errs.push(invalidValue(`${p}.default[${k}]`, String(def), `min value ${String(min)} is greater than default value ${String(def)}`));
      if (cmp(req, def) > 0) errs.push(invalidValue(`${p}.defaultRequest[${k}]`, String(req), `default request value ${String(req)} is greater than default limit value ${String(def)}`));
    }
    for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
      if (q(v) && compareQuantity(v, 1) < 0) errs.push(invalidValue(`${p}.maxLimitRequestRatio[${k}]`, String(v), `ratio ${String(v)} is less than 1`));
    }
  });
  return errs;
}

/** What LimitRanger did to, or found wrong with, a pod. */
export interface LimitRangerResult {
  /** The pod with defaults set (a copy), or the same when nothing was defaulted. */
  pod: Pod;
  /** Problems in Kubernetes' words, e.g. `maximum cpu usage per Container is 1, but limit is 2`; empty when admitted. */
  problems: string[];
}

const fmt = (v: string | number): string => formatQuantity(v);

/**
 * LimitRanger for a pod being created, against the LimitRanges of its namespace: defaults
 * first (`mergeContainerResources`, recorded in the `kubernetes.io/limit-ranger` annotation),
 * then `min`/`max`/`maxLimitRequestRatio` per Container and per Pod.
 */
export function admitPodLimits(input: Pod, ranges: readonly LimitRange[]): LimitRangerResult {
  const pod = structuredClone(input);
  const items: LimitRangeItem[] = ranges.flatMap((r) => r.spec?.limits ?? []);
  const notes: string[] = [];
  const containers = (): Container[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const item of items.filter((i) => i.type === 'Container')) {
    for (const c of containers()) {
      const res = (c.resources ??= {});
      const setReq: string[] = [];
      const setLim: string[] = [];
      for (const [k, v] of Object.entries(item.default ?? {})) {
        if (res.limits?.[k] === undefined) { (res.limits ??= {})[k] = v; setLim.push(k); }
      }
      for (const [k, v] of Object.entries(item.defaultRequest ?? {})) {
        if (res.requests?.[k] === undefined) { (res.requests ??= {})[k] = v; setReq.push(k); }
      }
      if (setReq.length) notes.push(`${setReq.join(', ')} request for ${(pod.spec?.initContainers ?? []).includes(c) ? 'init container' : 'container'} ${c.name}`);
      if (setLim.length) notes.push(`${setLim.join(', ')} limit for ${(pod.spec?.initContainers ?? []).includes(c) ? 'init container' : 'container'} ${c.name}`);
    }
  }
  if (notes.length) {
    const m = (pod.metadata ??= {});
    m.annotations = { ...(m.annotations ?? {}), 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${notes.join('; ')}` };
  }
  const problems: string[] = [];
  const check = (kind: 'Container' | 'Pod', item: LimitRangeItem, requests: Resources, limits: Resources) => {
    for (const [k, min] of Object.entries(item.min ?? {})) {
      const r = requests[k];
      if (r === undefined) problems.push(`minimum ${k} usage per ${kind} is ${fmt(min)}.  No request is specified`);
      else if (compareQuantity(r, min) < 0) problems.push(`minimum ${k} usage per ${kind} is ${fmt(min)}, but request is ${fmt(r)}`);
    }
    for (const [k, max] of Object.entries(item.max ?? {})) {
      const l = limits[k];
      if (l === undefined) problems.push(`maximum ${k} usage per ${kind} is ${fmt(max)}.  No limit is specified`);
      else if (compareQuantity(l, max) > 0) problems.push(`maximum ${k} usage per ${kind} is ${fmt(max)}, but limit is ${fmt(l)}`);
    }
    for (const [k, ratio] of Object.entries(item.maxLimitRequestRatio ?? {})) {
      const l = limits[k], r = requests[k];
      if (l === undefined || r === undefined) continue;
      const actual = Number(q(l)?.nanos ?? 0n) / Number(q(r)?.nanos ?? 1n);
      if (actual > Number(q(ratio)?.nanos ?? 0n) / 1e9) {
        problems.push(`${k} max limit to request ratio per ${kind} is ${fmt(ratio)}, but provided ratio is ${actual.toFixed(6)}`);
      }
    }
  };
  for (const item of items) {
    if (item.type === 'Container') {
      for (const c of containers()) check('Container', item, (c.resources?.requests ?? {}) as Resources, (c.resources?.limits ?? {}) as Resources);
    } else if (item.type === 'Pod') {
      const sum = (f: 'requests' | 'limits'): Resources => {
        const total: Record<string, Quantity> = {};
        for (const c of pod.spec?.containers ?? []) {
          for (const [k, v] of Object.entries(c.resources?.[f] ?? {})) { const x = q(v); if (x) total[k] = total[k] ? addQuantity(total[k], x) : x; }
        }
        return Object.fromEntries(Object.entries(total).map(([k, v]) => [k, formatQuantity(v)]));
      };
      check('Pod', item, sum('requests'), sum('limits'));
    }
  }
  return { pod, problems };
}
