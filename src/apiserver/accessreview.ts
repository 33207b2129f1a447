/**
 * SelfSubjectAccessReview (authorization.k8s.io/v1): "may I do this?", answered with the same
 * authorizer that guards every request, for the requesting user. `kubectl auth can-i` asks it.
 * Nothing is stored; the answer is the posted review with `status.allowed` filled in.
 */
import { badRequest, invalid, invalidFormatted } from '../api/errors.js';
import type { Attributes, UserInfo } from './auth/rbac.js';

interface ResourceAttributes { namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string }
interface NonResourceAttributes { path?: string; verb?: string }

/** The authorizer attributes a review asks about; 400/422 for a malformed review. */
export function reviewAttributes(user: UserInfo, body: Record<string, unknown>): Attributes {
  if (body.kind !== undefined && body.kind !== 'SelfSubjectAccessReview') {
    throw badRequest(`${String(body.kind)} in version ${JSON.stringify(body.apiVersion ?? '')} cannot be handled as a SelfSubjectAccessReview: the kind of the object does not match the endpoint`);
  }
  const spec = (body.spec ?? {}) as { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes };
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  if ((r && n) || (!r && !n)) {
    throw invalid('SelfSubjectAccessReview', '', [invalidFormatted('spec.resourceAttributes', r ? '&authorization.ResourceAttributes{…}' : 'nil',
      'exactly one of nonResourceAttributes or resourceAttributes must be specified')], 'authorization.k8s.io');
  }
  if (n) {
    return { user, verb: n.verb ?? '', resourceRequest: false, path: n.path ?? '', apiGroup: '', resource: '', subresource: '', namespace: '', name: '' };
  }
  const a = r ?? {};
  return {
    user, verb: a.verb ?? '', resourceRequest: true, path: '', apiGroup: a.group ?? '', resource: a.resource ?? '',
    subresource: a.subresource ?? '', namespace: a.namespace ?? '', name: a.name ?? '',
  };
}

/** The answered review. */
export function reviewResponse(body: Record<string, unknown>, allowed: boolean): Record<string, unknown> {
  return {
    kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null },
    spec: body.spec ?? {}, status: { allowed },
  };
}
