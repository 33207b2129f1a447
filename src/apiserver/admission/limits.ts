/**
 * The LimitRanger and ResourceQuota admission plugins (Kubernetes' `plugin/pkg/admission/
 * limitranger` and `resourcequota`). LimitRanger fills a new pod's unset container limits and
 * requests from its namespace's LimitRanges (recording what it set in the
 * `kubernetes.io/limit-ranger` annotation) and refuses what is outside min/max/ratio;
 * ResourceQuota refuses an object that would exceed a quota of its namespace — counting usage
 * from the stored objects of its kind, so a lagging `status.used` never lets one through — and a
 * pod that leaves a tracked compute resource unset. Both answer 403 Forbidden in Kubernetes'
 * words. LimitRanger runs first and ResourceQuota last, as in Kubernetes' plugin order.
 */
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { podQOSClass } from '../../api/defaults.js';
import { admitPodLimits } from '../../api/limitrange.js';
import type { Quantity } from '../../api/quantity.js';
import type { ResourceDef } from '../../api/resource.js';
import { addUsage, checkQuota, isComputeResource, usageOf } from '../../api/resourcequota.js';
import type { Pod } from '../../api/types.js';
import type { AdmissionPlugin } from '../admission.js';

/** `<resource> "<name>" is forbidden: <why>` (several reasons in brackets, as Go's aggregate prints them). */
export function forbiddenByAdmission(def: ResourceDef, name: string, problems: readonly string[]): ApiError {
  const why = problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`;
  return new ApiError(403, 'Forbidden', `${def.resource}${def.group ? `.${def.group}` : ''} "${name}" is forbidden: ${why}`, [], { name, group: def.group, kind: def.resource });
}

export const limitRangerAdmission: AdmissionPlugin = {
  name: 'LimitRanger',
  async admit(req, objects) {
    if (req.def.group !== '' || req.def.resource !== 'pods') return;
    const ranges = (await objects.list('', 'limitranges', req.namespace)) as LimitRange[];
    if (!ranges.length) return;
    const { pod, problems } = admitPodLimits(req.object as Pod, ranges);
    if (problems.length) throw forbiddenByAdmission(req.def, req.object.metadata?.name ?? req.name, problems);
    const target = req.object as Pod;
    target.metadata = pod.metadata;
    target.spec = pod.spec;
    // Defaulted resources can change the pod's QoS class.
    if (target.status) target.status.qosClass = podQOSClass(target);
  },
};

export const resourceQuotaAdmission: AdmissionPlugin = {
  name: 'ResourceQuota',
  async admit(req, objects) {
    if (!req.def.namespaced) return;
    const quotas = (await objects.list('', 'resourcequotas', req.namespace)) as ResourceQuota[];
    if (!quotas.length) return;
    const { group, resource } = req.def;
    const delta = usageOf(group, resource, req.object);
    const isPod = group === '' && resource === 'pods';
    const relevant = quotas.filter((q) => Object.keys(q.spec?.hard ?? {}).some((k) => k in delta || (isPod && isComputeResource(k))));
    if (!relevant.length) return;
    const used: Record<string, Quantity> = {};
    for (const existing of await objects.list(group, resource, req.namespace)) addUsage(used, usageOf(group, resource, existing));
    const problems = relevant.map((q) => checkQuota(q, used, delta, isPod ? (req.object as Pod) : undefined)).filter((p): p is string => p !== undefined);
    if (problems.length) throw forbiddenByAdmission(req.def, req.object.metadata?.name ?? req.name, problems);
  },
};
