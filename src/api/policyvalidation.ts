/**
 * Validation of PodDisruptionBudget (policy/v1), as Kubernetes' `ValidatePodDisruptionBudget`
 * does it: `minAvailable` xor `maxUnavailable`, each a non-negative int or a percent up to 100%,
 * a well-formed selector, a known `unhealthyPodEvictionPolicy`; the status counts non-negative.
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { invalidFormatted, invalidValue, notSupported, type FieldError } from './errors.js';
import { goIntOrString } from './gofmt.js';
import { intOrPercentValue, validateIntOrPercent } from './appsvalidation.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';

export const UNHEALTHY_POD_EVICTION_POLICIES = ['IfHealthyBudget', 'AlwaysAllow'];

function notOver100(v: number | string | undefined, path: string): FieldError[] {
  return typeof v === 'string' && /^[0-9]+%$/.test(v) && intOrPercentValue(v) > 100
    ? [invalidFormatted(path, goIntOrString(v), 'must not be greater than 100%')] : [];
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget, old?: PodDisruptionBudget): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(pdb.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(pdb.metadata, true, nameIsDNSSubdomain));
  const spec = pdb.spec ?? {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalidFormatted('spec', 'policy.PodDisruptionBudgetSpec{...}', 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (spec.minAvailable !== undefined) {
    errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable'), ...notOver100(spec.minAvailable, 'spec.minAvailable'));
  }
  if (spec.maxUnavailable !== undefined) {
    errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'), ...notOver100(spec.maxUnavailable, 'spec.maxUnavailable'));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (spec.unhealthyPodEvictionPolicy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(spec.unhealthyPodEvictionPolicy)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  const st = pdb.status;
  for (const f of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const) {
    const v = st?.[f];
    if (v !== undefined && v < 0) errs.push(invalidValue(`status.${f}`, v, 'must be greater than or equal to 0'));
  }
  return errs;
}
