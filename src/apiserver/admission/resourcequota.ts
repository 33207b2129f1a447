/**
 * The ResourceQuota admission plugin (Kubernetes' `plugin/pkg/admission/resourcequota`), last
 * in the chain, on every create in a namespace with quotas: for each quota whose scopes match,
 * a pod must give every compute resource the quota constrains (403 `failed quota: q: must
 * specify requests.cpu`), and the object's usage added to what the namespace already uses must
 * stay within `spec.hard` (403 `exceeded quota: q, requested: pods=1, used: pods=2, limited:
 * pods=2`).
 *
 * Deviation: the usage is counted from the stored objects at admission time (the same count the
 * resourcequota controller writes to `status.used`), not charged to `status.used` with a
 * compare-and-swap as Kubernetes does, so two creates racing for the last unit may both pass.
 */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../api/types.js';
import {
  exceededNames, kindOfQuotaName, missingComputeNames, prettyUsage, quotaMatches, sumUsage, usageOf, type Usage,
} from '../../api/quota.js';
import type { AdmissionPlugin, ObjectReader } from '../admission.js';
import { forbiddenFor } from './limitranger.js';

/** What the namespace uses now of the quota's `names` (objects the quota's scopes match). */
export async function currentUsage(objects: ObjectReader, namespace: string, rq: ResourceQuota, names: readonly string[]): Promise<Usage> {
  const kinds = new Map<string, { group: string; resource: string }>();
  for (const n of names) {
    const k = kindOfQuotaName(n);
    if (k) kinds.set(`${k.group}/${k.resource}`, k);
  }
  const usages: Usage[] = [];
  for (const { group, resource } of kinds.values()) {
    for (const obj of await objects.list(group, resource, namespace)) {
      if (quotaMatches(rq, group, resource, obj)) usages.push(usageOf(group, resource, obj));
    }
  }
  return sumUsage(usages, names);
}

export const resourceQuotaAdmission: AdmissionPlugin = {
  name: 'ResourceQuota',
  async admit(req, objects) {
    if (!req.def.namespaced || !req.namespace) return;
    const quotas = (await objects.list('', 'resourcequotas', req.namespace)) as ResourceQuota[];
    if (!quotas.length) return;
    const { group, resource } = req.def;
    const delta = usageOf(group, resource, req.object);
    quotas.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    for (const rq of quotas) {
      const hard = rq.spec?.hard ?? {};
      const names = Object.keys(hard);
      if (!quotaMatches(rq, group, resource, req.object)) continue;
      if (group === '' && resource === 'pods') {
        const missing = missingComputeNames(req.object as Pod, names);
        if (missing.length) throw forbiddenFor(req, `failed quota: ${rq.metadata?.name ?? ''}: must specify ${missing.join(',')}`);
      }
      const charged = [...delta.keys()].filter((k) => hard[k] !== undefined);
      if (!charged.length) continue;
      const used = await currentUsage(objects, req.namespace, rq, charged);
      const exceeded = exceededNames(hard, used, delta);
      if (exceeded.length) {
        throw forbiddenFor(req, `exceeded quota: ${rq.metadata?.name ?? ''}, requested: ${prettyUsage(delta, exceeded)}, `
          + `used: ${prettyUsage(used, exceeded)}, limited: ${prettyUsage(hard, exceeded)}`);
      }
    }
  },
};
