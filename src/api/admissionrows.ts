/**
 * Table rows of LimitRange, ResourceQuota and PodDisruptionBudget as kubectl prints them
 * (Kubernetes' `printLimitRange`: NAME CREATED AT; `printResourceQuota`: NAME AGE REQUEST LIMIT;
 * `printPodDisruptionBudget`: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE).
 * Shared by the API server's Table printer and the CLI's tables; pure functions of (object, now).
 */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KindRows } from './identityrows.js';
import { age } from './podstatus.js';
import { formatQuantity } from './quantity.js';

const q = (v: string | undefined): string => (v === undefined ? '0' : formatQuantity(v));

/** `pods: 1/2, requests.cpu: 500m/1` and `limits.cpu: 1/2`: used/hard per resource, sorted by name. */
export function quotaColumns(rq: ResourceQuota): { request: string; limit: string } {
  const request: string[] = [];
  const limit: string[] = [];
  for (const r of Object.keys(rq.spec?.hard ?? {}).sort()) {
    const cell = `${r}: ${q(rq.status?.used?.[r])}/${q(rq.status?.hard?.[r])}`;
    (r.split('.').length > 1 && r.startsWith('limits.') ? limit : request).push(cell);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

export const ADMISSION_ROWS: Record<string, KindRows> = {
  '/limitranges': {
    columns: [{ name: 'Name' }, { name: 'Created At' }],
    row: (obj) => [obj.metadata?.name ?? '', obj.metadata?.creationTimestamp ?? ''],
  },
  '/resourcequotas': {
    columns: [{ name: 'Name' }, { name: 'Age' }, { name: 'Request' }, { name: 'Limit' }],
    row: (obj, now) => {
      const c = quotaColumns(obj as ResourceQuota);
      return [obj.metadata?.name ?? '', age(obj.metadata?.creationTimestamp, now), c.request, c.limit];
    },
  },
  'policy/poddisruptionbudgets': {
    columns: [{ name: 'Name' }, { name: 'Min Available' }, { name: 'Max Unavailable' }, { name: 'Allowed Disruptions' }, { name: 'Age' }],
    row: (obj, now) => {
      const pdb = obj as PodDisruptionBudget;
      const v = (x: number | string | undefined) => (x === undefined ? 'N/A' : String(x));
      return [obj.metadata?.name ?? '', v(pdb.spec?.minAvailable), v(pdb.spec?.maxUnavailable), String(pdb.status?.disruptionsAllowed ?? 0),
        age(obj.metadata?.creationTimestamp, now)];
    },
  },
};
