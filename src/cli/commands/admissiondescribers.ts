/**
 * `describe limitrange` and `describe resourcequota` as kubectl prints them: a table of the
 * LimitRange's items per resource (Min, Max, Default Request, Default Limit, Max Limit/Request
 * Ratio), a quota's used/hard per resource, and a PodDisruptionBudget's bound and counts.
 */
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { formatQuantity } from '../../api/quantity.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Event } from '../../api/types.js';
import { selectorString } from './apps.js';
import { Out, describeEvents } from './describers.js';

const q = (v: string | undefined): string => (v === undefined ? '-' : formatQuantity(v));

/** kubectl's `describeLimitRange`: one row per (item, resource), resources sorted. */
export function describeLimitRange(lr: LimitRange): string {
  const out = new Out();
  out.w(0, `Name:\t${lr.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${lr.metadata?.namespace ?? ''}\n`);
  out.w(0, 'Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n');
  out.w(0, '----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n');
  for (const item of lr.spec?.limits ?? []) {
    const names = new Set([...Object.keys(item.max ?? {}), ...Object.keys(item.min ?? {}), ...Object.keys(item.default ?? {}),
      ...Object.keys(item.defaultRequest ?? {}), ...Object.keys(item.maxLimitRequestRatio ?? {})]);
    for (const r of [...names].sort()) {
      out.w(0, `${item.type}\t${r}\t${q(item.min?.[r])}\t${q(item.max?.[r])}\t${q(item.defaultRequest?.[r])}\t${q(item.default?.[r])}\t${q(item.maxLimitRequestRatio?.[r])}\n`);
    }
  }
  return out.toString();
}

/** kubectl's `describeQuota`: scopes, then Resource / Used / Hard sorted by resource. */
export function describeResourceQuota(rq: ResourceQuota): string {
  const out = new Out();
  out.w(0, `Name:\t${rq.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${rq.metadata?.namespace ?? ''}\n`);
  if (rq.spec?.scopes?.length) {
    out.w(0, 'Scopes:\t' + rq.spec.scopes.join(', ') + '\n');
  }
  out.w(0, 'Resource\tUsed\tHard\n');
  out.w(0, '--------\t----\t----\n');
  for (const r of Object.keys(rq.status?.hard ?? {}).sort()) {
    const used = rq.status?.used?.[r];
    out.w(0, `${r}\t${used === undefined ? '0' : formatQuantity(used)}\t${formatQuantity(rq.status?.hard?.[r] ?? '0')}\n`);
  }
  return out.toString();
}

/** kubectl's `describePodDisruptionBudget`: the bound, the selector, the status counts. */
export function describePodDisruptionBudget(pdb: PodDisruptionBudget, events: Event[] | undefined, now: number): string {
  const out = new Out();
  out.w(0, `Name:\t${pdb.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${pdb.metadata?.namespace ?? ''}\n`);
  if (pdb.spec?.minAvailable !== undefined) out.w(0, `Min available:\t${pdb.spec.minAvailable}\n`);
  if (pdb.spec?.maxUnavailable !== undefined) out.w(0, `Max unavailable:\t${pdb.spec.maxUnavailable}\n`);
  out.w(0, `Selector:\t${pdb.spec?.selector ? selectorString(pdb.spec.selector) || '<unset>' : '<unset>'}\n`);
  out.w(0, 'Status:\n');
  out.w(2, `Allowed disruptions:\t${pdb.status?.disruptionsAllowed ?? 0}\n`);
  out.w(2, `Current:\t${pdb.status?.currentHealthy ?? 0}\n`);
  out.w(2, `Desired:\t${pdb.status?.desiredHealthy ?? 0}\n`);
  out.w(2, `Total:\t${pdb.status?.expectedPods ?? 0}\n`);
  describeEvents(out, events, now);
  return out.toString();
}
