/**
 * Quota evaluation (Kubernetes' `pkg/quota/v1/evaluator/core` in miniature), shared by the
 * ResourceQuota admission plugin and the resourcequota controller: what one object uses of
 * each quota resource name, which kinds a quota's names depend on, whether a quota's scopes
 * match a pod, the compute resources a constrained pod must specify, and Kubernetes' texts.
 * Pure functions.
 */
import type { PersistentVolumeClaim, ResourceQuota, Service } from 'kubernetes-types/core/v1.js';
import { addQuantity, compareQuantity, formatQuantity, type Quantity } from './quantity.js';
import type { KubeObject, Pod } from './types.js';

/** Usage of one object, or the sum over several: resource name → quantity. */
export type Usage = Map<string, Quantity>;

const one = (): Quantity => ({ nanos: 1_000_000_000n, format: 'DecimalSI' });
const q = (v: string | number): Quantity => addQuantity(v, 0);
/** `a + b`, or `b` alone when there is no `a` yet; printed in the first term's format, as Kubernetes' Add. */
const plus = (a: Quantity | undefined, b: Quantity | string): Quantity => (a ? addQuantity(a, b) : typeof b === 'string' ? q(b) : b);

/** `count/deployments.apps`, `count/pods`: the object-count name of a kind. */
export const countName = (group: string, resource: string): string => `count/${resource}${group ? `.${group}` : ''}`;

/** Core kinds that also have a legacy count name (`pods`, `services`, …). */
const LEGACY_COUNTS = ['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims'];

/** The compute names a pod's usage is reported under (`requests.cpu` and its alias `cpu`, …). */
const COMPUTE = ['cpu', 'memory', 'ephemeral-storage'];
/** The compute names whose values every container of a constrained pod must give. */
const MUST_SPECIFY = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

/** A pod quota no longer charges: terminal, or being deleted. */
export const podIsTerminated = (pod: Pod): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || !!pod.metadata?.deletionTimestamp;

/** The container's compute usage names (`requests.cpu`, `cpu`, `limits.cpu`, …). */
function computeUsage(requests: Record<string, string>, limits: Record<string, string>): Usage {
  const u: Usage = new Map();
  for (const r of COMPUTE) {
    if (requests[r] !== undefined) { u.set(`requests.${r}`, q(requests[r])); u.set(r, q(requests[r])); }
    if (limits[r] !== undefined) u.set(`limits.${r}`, q(limits[r]));
  }
  return u;
}

/** The pod's effective requests or limits: the containers' sum, raised to any larger init container's. */
export function podTotals(pod: Pod, which: 'requests' | 'limits'): Record<string, string> {
  const sum = new Map<string, Quantity>();
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.[which] ?? {})) sum.set(k, plus(sum.get(k), v));
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.[which] ?? {})) {
      const cur = sum.get(k);
      if (cur === undefined || compareQuantity(v, cur) > 0) sum.set(k, q(v));
    }
  }
  return Object.fromEntries([...sum].map(([k, v]) => [k, formatQuantity(v)]));
}

/** What one object of `group/resource` uses (zero for terminated pods). */
export function usageOf(group: string, resource: string, obj: KubeObject): Usage {
  const u: Usage = new Map([[countName(group, resource), one()]]);
  if (group === '' && LEGACY_COUNTS.includes(resource)) u.set(resource, one());
  if (group !== '') return u;
  if (resource === 'pods') {
    const pod = obj as Pod;
    if (podIsTerminated(pod)) return new Map();
    for (const [k, v] of computeUsage(podTotals(pod, 'requests'), podTotals(pod, 'limits'))) u.set(k, v);
  } else if (resource === 'services') {
    const svc = obj as Service;
    const type = svc.spec?.type ?? 'ClusterIP';
    if (type === 'LoadBalancer') u.set('services.loadbalancers', one());
    const nodePorts = type === 'NodePort' || (type === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false)
      ? (svc.spec?.ports ?? []).length : 0;
    if (type === 'NodePort' || type === 'LoadBalancer') u.set('services.nodeports', q(nodePorts));
  } else if (resource === 'persistentvolumeclaims') {
    const pvc = obj as PersistentVolumeClaim;
    const storage = pvc.spec?.resources?.requests?.storage;
    if (storage !== undefined) u.set('requests.storage', q(storage));
    const sc = pvc.spec?.storageClassName;
    if (sc) {
      u.set(`${sc}.storageclass.storage.k8s.io/persistentvolumeclaims`, one());
      if (storage !== undefined) u.set(`${sc}.storageclass.storage.k8s.io/requests.storage`, q(storage));
    }
  }
  return u;
}

/** The kind (`group`, `resource`) whose objects a quota resource name counts, if known. */
export function kindOfQuotaName(name: string): { group: string; resource: string } | undefined {
  const count = /^count\/([a-z0-9-]+)(?:\.(.+))?$/.exec(name);
  if (count) return { group: count[2] ?? '', resource: count[1] };
  if (LEGACY_COUNTS.includes(name)) return { group: '', resource: name };
  if (/^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/.test(name)) return { group: '', resource: 'pods' };
  if (name.startsWith('services.')) return { group: '', resource: 'services' };
  if (name === 'requests.storage' || name.includes('.storageclass.storage.k8s.io/')) return { group: '', resource: 'persistentvolumeclaims' };
  return undefined;
}

/** Scoped quotas only charge pods; a pod matches when every scope does. */
export function quotaMatches(rq: ResourceQuota, group: string, resource: string, obj: KubeObject): boolean {
  const scopes = rq.spec?.scopes ?? [];
  if (!scopes.length) return true;
  if (group !== '' || resource !== 'pods') return false;
  const pod = obj as Pod;
  const terminating = pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds !== null;
  const bestEffort = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].every((c) =>
    COMPUTE.slice(0, 2).every((r) => c.resources?.requests?.[r] === undefined && c.resources?.limits?.[r] === undefined));
  return scopes.every((s) => (s === 'Terminating' ? terminating : s === 'NotTerminating' ? !terminating
    : s === 'BestEffort' ? bestEffort : s === 'NotBestEffort' ? !bestEffort : false));
}

/** Sums usages, keeping only the names in `names`. */
export function sumUsage(usages: Iterable<Usage>, names: readonly string[]): Usage {
  const wanted = new Set(names);
  const total = new Map<string, Quantity | undefined>(names.map((n) => [n, undefined]));
  for (const u of usages) for (const [k, v] of u) if (wanted.has(k)) total.set(k, plus(total.get(k), v));
  return new Map([...total].map(([k, v]) => [k, v ?? q(0)]));
}

/**
 * The compute names the quota constrains that some container of `pod` does not give, sorted
 * (Kubernetes' `must specify limits.cpu,requests.cpu`).
 */
export function missingComputeNames(pod: Pod, hard: readonly string[]): string[] {
  const required = hard.filter((h) => MUST_SPECIFY.has(h));
  const missing = new Set<string>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const have = computeUsage(c.resources?.requests ?? {}, c.resources?.limits ?? {});
    for (const r of required) if (!have.has(r)) missing.add(r);
  }
  return [...missing].sort();
}

/** `pods=1,requests.cpu=500m`: Kubernetes' `prettyPrint` of a resource list, names sorted. */
export function prettyUsage(u: Usage | Record<string, string>, names: readonly string[]): string {
  const get = (k: string) => (u instanceof Map ? u.get(k) : u[k]);
  return [...names].sort().map((k) => `${k}=${formatQuantity(get(k) ?? 0)}`).join(',');
}

/**
 * Checks a new object's `delta` against a quota with current `used`: the names it would push
 * over `hard`, sorted (empty: it fits). Only names the delta charges are checked.
 */
export function exceededNames(hard: Record<string, string>, used: Usage, delta: Usage): string[] {
  const out: string[] = [];
  for (const [k, v] of delta) {
    if (hard[k] === undefined || compareQuantity(v, 0) === 0) continue;
    if (compareQuantity(addQuantity(used.get(k) ?? 0, v), hard[k]) > 0) out.push(k);
  }
  return out.sort();
}
