/** `describe pdb|limitrange|quota` as kubectl prints them. */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { Event } from '../../api/types.js';
import { selectorString } from './apps.js';
import { Out, describeEvents } from './describers.js';

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

/**
 * kubectl's `describeLimitRange`: one row per limit type and resource, `-` where a bound is
 * unset (kubectl's row order within a type follows Go map order; here resources are sorted).
 */
export function describeLimitRange(lr: LimitRange): string {
  const out = new Out();
  out.w(0, `Name:\t${lr.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${lr.metadata?.namespace ?? ''}\n`);
  out.w(0, 'Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n');
  out.w(0, '----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n');
  for (const item of lr.spec?.limits ?? []) {
    const columns = [item.min, item.max, item.defaultRequest, item.default, item.maxLimitRequestRatio];
    const resources = [...new Set(columns.flatMap((c) => Object.keys(c ?? {})))].sort();
    for (const r of resources) {
      out.w(0, `${item.type}\t${r}\t${columns.map((c) => c?.[r] ?? '-').join('\t')}\n`);
    }
  }
  return out.toString();
}

/** What each ResourceQuota scope matches, in kubectl's words. */
const SCOPE_HELP: Record<string, string> = {
  Terminating: 'Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system.',
  NotTerminating: 'Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.',
  BestEffort: 'Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.',
  NotBestEffort: 'Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.',
};

/** kubectl's `describeQuota`: the scopes, then used and hard per resource of `status.hard`. */
export function describeResourceQuota(q: ResourceQuota): string {
  const out = new Out();
  out.w(0, `Name:\t${q.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${q.metadata?.namespace ?? ''}\n`);
  const scopes = [...(q.spec?.scopes ?? [])].sort();
  if (scopes.length) {
    out.w(0, `Scopes:\t${scopes.join(', ')}\n`);
    for (const s of scopes) if (SCOPE_HELP[s]) out.w(0, `* ${SCOPE_HELP[s]}\n`);
  }
  out.w(0, 'Resource\tUsed\tHard\n');
  out.w(0, '--------\t----\t----\n');
  const hard = q.status?.hard ?? {};
  for (const r of Object.keys(hard).sort()) out.w(0, `${r}\t${q.status?.used?.[r] ?? '0'}\t${hard[r]}\n`);
  return out.toString();
}

