/**
 * `describe limitrange` and `describe resourcequota` as kubectl prints them: a table of the
 * LimitRange's items per resource (Min, Max, Default Request, Default Limit, Max Limit/Request
 * Ratio), and a quota's used/hard per resource.
 */
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { formatQuantity } from '../../api/quantity.js';
import { Out } from './describers.js';

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
