/** PodDisruptionBudget (policy/v1): its `status` is kept by the disruption controller. */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { ResourceDef } from '../resource.js';
import { defineResource } from '../registry.js';
import { validatePodDisruptionBudget } from '../policyvalidation.js';

export const POLICY_RESOURCES: ResourceDef[] = [
  defineResource<PodDisruptionBudget>({
    group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget',
    namespaced: true, shortNames: ['pdb'], subresources: ['status'],
    // Until the controller has counted, no disruption is allowed (as Kubernetes' strategy sets it).
    prepareForCreate: (pdb) => { pdb.status = { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 }; },
    validate: validatePodDisruptionBudget,
  }),
];
