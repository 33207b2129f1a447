/**
 * ResourceQuota (v1): validation (`ValidateResourceQuota`), what an object uses of a quota
 * (`pkg/quota/v1/evaluator/core`: pods count `pods`, `count/pods`, `requests.cpu`/`cpu`,
 * `requests.memory`/`memory`, `limits.cpu`, `limits.memory` while not finished; other kinds
 * `count/<resource>[.<group>]` and the legacy names `services`, `secrets`, `configmaps`,
 * `replicationcontrollers`, `resourcequotas`, `persistentvolumeclaims`; `requests.storage` from
 * PVC requests), and the admission decision with Kubernetes' wording. Pure.
 */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { FieldError } from './errors.js';
import { invalidValue } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';
import { podRequestsAndLimits } from './podresources.js';
import { addQuantity, compareQuantity, formatQuantity, parseQuantity, type Quantity } from './quantity.js';
import type { KubeObject, Pod } from './types.js';

const LEGACY_COUNTS: Record<string, string> = {
  '/services': 'services', '/secrets': 'secrets', '/configmaps': 'configmaps', '/replicationcontrollers': 'replicationcontrollers',
  '/resourcequotas': 'resourcequotas', '/persistentvolumeclaims': 'persistentvolumeclaims', '/pods': 'pods',
};
const COMPUTE = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory'];

export function validateResourceQuota(rq: ResourceQuota, old?: ResourceQuota): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(rq.metadata, old.metadata) : validateObjectMeta(rq.metadata, true, nameIsDNSSubdomain);
  for (const f of ['spec.hard', 'status.hard', 'status.used'] as const) {
    const m = (f === 'spec.hard' ? rq.spec?.hard : f === 'status.hard' ? rq.status?.hard : rq.status?.used) ?? {};
    for (const [k, v] of Object.entries(m)) {
      const q = parseQuantity(v);
      if (!q.ok) errs.push(invalidValue(`${f}[${k}]`, v, 'must be a valid quantity'));
      else if (compareQuantity(q.quantity, 0) < 0) errs.push(invalidValue(`${f}[${k}]`, v, 'must be greater than or equal to 0'));
    }
  }
  return errs;
}

/** What one object of `group/resource` uses, by quota resource name. */
export function usageOf(group: string, resource: string, obj: KubeObject): Record<string, Quantity> {
  const one = parseQuantity(1);
  const out: Record<string, Quantity> = {};
  if (!one.ok) return out;
  if (group === '' && resource === 'pods') {
    const pod = obj as Pod;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return out;
    const { requests, limits } = podRequestsAndLimits(pod);
    if (requests.cpu) out['requests.cpu'] = out.cpu = requests.cpu;
    if (requests.memory) out['requests.memory'] = out.memory = requests.memory;
    if (limits.cpu) out['limits.cpu'] = limits.cpu;
    if (limits.memory) out['limits.memory'] = limits.memory;
  }
  if (group === '' && resource === 'persistentvolumeclaims') {
    const req = (obj as { spec?: { resources?: { requests?: Record<string, string> } } }).spec?.resources?.requests?.storage;
    const q = req !== undefined ? parseQuantity(req) : undefined;
    if (q?.ok) out['requests.storage'] = q.quantity;
  }
  out[`count/${resource}${group ? `.${group}` : ''}`] = one.quantity;
  const legacy = LEGACY_COUNTS[`${group}/${resource}`];
  if (legacy) out[legacy] = one.quantity;
  return out;
}

/** Sums usages. */
export function addUsage(into: Record<string, Quantity>, more: Record<string, Quantity>): Record<string, Quantity> {
  for (const [k, v] of Object.entries(more)) into[k] = into[k] ? addQuantity(into[k], v) : v;
  return into;
}

/** `status.used` for the quota's hard resources from the usage of everything in its namespace. */
export function quotaUsed(rq: ResourceQuota, usage: Record<string, Quantity>): Record<string, string> {
  return Object.fromEntries(Object.keys(rq.spec?.hard ?? {}).map((k) => [k, usage[k] ? formatQuantity(usage[k]) : '0']));
}

const pairs = (m: Record<string, Quantity | string>, keys: readonly string[]): string =>
  keys.map((k) => `${k}=${typeof m[k] === 'string' ? m[k] : formatQuantity((m[k] as Quantity | undefined) ?? 0)}`).join(',');

/**
 * Whether `delta` (what a new object adds) fits `rq` given `used`: undefined when it does, else
 * the reason — `exceeded quota: <name>, requested: …, used: …, limited: …`, or for a pod that
 * leaves a tracked compute resource unset, `failed quota: <name>: must specify …`.
 */
export function checkQuota(rq: ResourceQuota, used: Record<string, Quantity>, delta: Record<string, Quantity>, pod?: Pod): string | undefined {
  const hard = rq.spec?.hard ?? {};
  const name = rq.metadata?.name ?? '';
  if (pod) {
    const missing: string[] = [];
    for (const k of ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']) {
      if (!(k in hard) && !(k === 'requests.cpu' && 'cpu' in hard) && !(k === 'requests.memory' && 'memory' in hard)) continue;
      const [field, res] = k.split('.') as ['limits' | 'requests', string];
      const lacking = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].filter((c) => c.resources?.[field]?.[res] === undefined).map((c) => c.name);
      if (lacking.length) missing.push(`${k} for: ${lacking.join(',')}`);
    }
    if (missing.length) return `failed quota: ${name}: must specify ${missing.join('; ')}`;
  }
  const over = Object.keys(delta).filter((k) => k in hard).filter((k) => {
    const total = used[k] ? addQuantity(used[k], delta[k]) : delta[k];
    return compareQuantity(total, hard[k]) > 0;
  }).sort();
  if (!over.length) return undefined;
  const hardQ = Object.fromEntries(over.map((k) => [k, String(hard[k])]));
  return `exceeded quota: ${name}, requested: ${pairs(delta, over)}, used: ${pairs(used, over)}, limited: ${pairs(hardQ, over)}`;
}

export const isComputeResource = (k: string): boolean => COMPUTE.includes(k);
