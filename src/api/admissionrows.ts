/**
 * Table rows of PodDisruptionBudget as kubectl prints them (Kubernetes'
 * `printPodDisruptionBudget`: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE). Shared
 * by the API server's Table printer and the CLI's tables; pure functions of (object, now).
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KindRows } from './identityrows.js';
import { age } from './podstatus.js';

export const ADMISSION_ROWS: Record<string, KindRows> = {
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
