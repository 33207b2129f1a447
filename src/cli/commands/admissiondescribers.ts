/** `describe pdb` as kubectl prints it: the bound, the selector, the status counts. */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
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
