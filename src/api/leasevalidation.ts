/**
 * Validation of coordination.k8s.io/v1 Leases, as Kubernetes' `ValidateLease`: a DNS-subdomain
 * name, positive `leaseDurationSeconds` and non-negative `leaseTransitions` when set, and
 * `preferredHolder` only with `strategy`.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { invalidValue, required, type FieldError } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';

export function validateLease(lease: Lease, old?: Lease): FieldError[] {
  const errs = validateObjectMeta(lease.metadata, true, (n) => nameIsDNSSubdomain(n, false));
  if (old) errs.push(...validateObjectMetaUpdate(lease.metadata, old.metadata));
  const spec = lease.spec ?? {};
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
    errs.push(invalidValue('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0) {
    errs.push(invalidValue('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  // 1.32 fields the kubernetes-types typings predate
  const extra = spec as { preferredHolder?: string; strategy?: string };
  if (extra.preferredHolder && !extra.strategy) errs.push(required('spec.strategy'));
  return errs;
}

