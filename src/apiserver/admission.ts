/**
 * Admission (Kubernetes' `k8s.io/apiserver/pkg/admission`): a fixed chain of small plugins that
 * every create goes through after defaulting and before validation; each may change the object
 * (mutating) or refuse it with an ApiError (403 Forbidden, as Kubernetes' admission errors are).
 * Plugins read other objects through the context only: LimitRanger, then ResourceQuota.
 */
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { addUsage, checkQuota, isComputeResource, usageOf } from '../api/resourcequota.js';
import { ApiError } from '../api/errors.js';
import { podQOSClass } from '../api/defaults.js';
import { admitPodLimits } from '../api/limitrange.js';
import type { ResourceDef } from '../api/resource.js';
import type { KubeObject, Pod } from '../api/types.js';

export interface AdmissionContext {
  /** Objects of `group/resource` in a namespace (from the store, not a cache). */
  list(group: string, resource: string, namespace: string): Promise<KubeObject[]>;
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Changes `obj` in place, or throws an ApiError to refuse it. */
  admit(def: ResourceDef, obj: KubeObject, operation: 'CREATE', ctx: AdmissionContext): Promise<void>;
}

/** `<resource> "<name>" is forbidden: <why>` (several reasons in brackets, as Go's aggregate prints them). */
export function forbiddenByAdmission(def: ResourceDef, name: string, problems: readonly string[]): ApiError {
  const why = problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`;
  return new ApiError(403, 'Forbidden', `${def.resource}${def.group ? `.${def.group}` : ''} "${name}" is forbidden: ${why}`, [], { name, group: def.group, kind: def.resource });
}

/** LimitRanger: container defaults and min/max/ratio from the namespace's LimitRanges, for pods. */
export const limitRanger: AdmissionPlugin = {
  name: 'LimitRanger',
  async admit(def, obj, _op, ctx) {
    if (def.group !== '' || def.resource !== 'pods') return;
    const ranges = (await ctx.list('', 'limitranges', obj.metadata?.namespace ?? '')) as LimitRange[];
    if (!ranges.length) return;
    const { pod, problems } = admitPodLimits(obj as Pod, ranges);
    if (problems.length) throw forbiddenByAdmission(def, obj.metadata?.name ?? '', problems);
    const target = obj as Pod;
    target.metadata = pod.metadata;
    target.spec = pod.spec;
    // Defaulted resources can change the pod's QoS class.
    if (target.status) target.status.qosClass = podQOSClass(target);
  },
};

/**
 * ResourceQuota: a new object must fit every quota of its namespace that tracks what it uses
 * (usage counted from the stored objects of its kind, so a stale `status.used` never lets one
 * through); a pod must also set every compute resource a quota tracks.
 */
export const resourceQuota: AdmissionPlugin = {
  name: 'ResourceQuota',
  async admit(def, obj, _op, ctx) {
    if (!def.namespaced) return;
    const namespace = obj.metadata?.namespace ?? '';
    const quotas = (await ctx.list('', 'resourcequotas', namespace)) as ResourceQuota[];
    if (!quotas.length) return;
    const delta = usageOf(def.group, def.resource, obj);
    const isPod = def.group === '' && def.resource === 'pods';
    const relevant = quotas.filter((q) => Object.keys(q.spec?.hard ?? {}).some((k) => k in delta || (isPod && isComputeResource(k))));
    if (!relevant.length) return;
    const used = {};
    for (const existing of await ctx.list(def.group, def.resource, namespace)) addUsage(used, usageOf(def.group, def.resource, existing));
    const problems = relevant.map((q) => checkQuota(q, used, delta, isPod ? (obj as Pod) : undefined)).filter((p): p is string => p !== undefined);
    if (problems.length) throw forbiddenByAdmission(def, obj.metadata?.name ?? '', problems);
  },
};

/** The plugins in Kubernetes' order (only those minikube-lite has): LimitRanger before ResourceQuota. */
export const DEFAULT_ADMISSION: readonly AdmissionPlugin[] = [limitRanger, resourceQuota];

export class AdmissionChain {
  constructor(private readonly plugins: readonly AdmissionPlugin[] = DEFAULT_ADMISSION) {}

  async admit(def: ResourceDef, obj: KubeObject, operation: 'CREATE', ctx: AdmissionContext): Promise<void> {
    for (const p of this.plugins) await p.admit(def, obj, operation, ctx);
  }
}
