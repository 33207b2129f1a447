/**
 * A pod's effective requests and limits (Kubernetes' `PodRequestsAndLimits`): the sum over its
 * containers, but at least the largest of each init container's. Used by `describe node` and
 * by ResourceQuota. Pure.
 */
import { addQuantity, compareQuantity, parseQuantity, type Quantity } from './quantity.js';
import type { Pod } from './types.js';

export type ResourceTotals = Record<string, Quantity>;

export function podRequestsAndLimits(pod: Pod): { requests: ResourceTotals; limits: ResourceTotals } {
  const sum = (field: 'requests' | 'limits'): ResourceTotals => {
    const total: ResourceTotals = {};
    for (const c of pod.spec?.containers ?? []) {
      for (const [name, v] of Object.entries(c.resources?.[field] ?? {})) {
        const q = parseQuantity(v);
        if (q.ok) total[name] = total[name] ? addQuantity(total[name], q.quantity) : q.quantity;
      }
    }
    for (const c of pod.spec?.initContainers ?? []) {
      for (const [name, v] of Object.entries(c.resources?.[field] ?? {})) {
        const q = parseQuantity(v);
        if (q.ok && (!total[name] || compareQuantity(q.quantity, total[name]) > 0)) total[name] = q.quantity;
      }
    }
    return total;
  };
  return { requests: sum('requests'), limits: sum('limits') };
}
