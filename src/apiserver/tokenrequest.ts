/**
 * The `serviceaccounts/{name}/token` subresource: a POSTed TokenRequest
 * (authentication.k8s.io/v1) becomes a signed service-account token for that account,
 * optionally bound to a pod of the same namespace, with the requested audiences (default: the
 * API server's) and lifetime (default 3600 s, at least 600 s).
 */
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { ApiError, badRequest, invalid, invalidValue, notFound, notSupported, type FieldError } from '../api/errors.js';
import type { Pod } from '../api/types.js';
import type { ObjectReader } from './admission.js';
import { DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS, MIN_TOKEN_SECONDS, type TokenIssuer } from './auth/tokens.js';
import { rfc3339 } from './rest.js';

/** The checked spec of a TokenRequest body, with defaults; 400/422 when malformed. */
export function parseTokenRequest(name: string, body: Record<string, unknown>, defaultAudiences: string[]): { audiences: string[]; expirationSeconds: number; pod?: { name: string; uid?: string } } {
  const tr = body as unknown as Partial<TokenRequest> & { kind?: string };
  if (tr.kind !== undefined && tr.kind !== 'TokenRequest') {
    throw badRequest(`${String(tr.kind)} in version ${JSON.stringify(tr.apiVersion ?? '')} cannot be handled as a TokenRequest: the kind of the object does not match the endpoint`);
  }
  const spec = tr.spec ?? ({} as TokenRequest['spec']);
  const errs: FieldError[] = [];
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
  if (!Number.isInteger(expirationSeconds)) errs.push(invalidValue('spec.expirationSeconds', expirationSeconds, 'must be an integer'));
  else if (expirationSeconds < MIN_TOKEN_SECONDS) errs.push(invalidValue('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  else if (expirationSeconds > MAX_TOKEN_SECONDS) errs.push(invalidValue('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  const audiences = (spec.audiences ?? []).length ? [...(spec.audiences ?? [])] : [...defaultAudiences];
  audiences.forEach((a, i) => { if (typeof a !== 'string' || !a) errs.push(invalidValue(`spec.audiences[${i}]`, a, 'must be a non-empty string')); });
  let pod: { name: string; uid?: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    if (ref.kind !== 'Pod') errs.push(notSupported('spec.boundObjectRef.kind', ref.kind ?? '', ['Pod']));
    else if (ref.apiVersion !== undefined && ref.apiVersion !== 'v1') errs.push(notSupported('spec.boundObjectRef.apiVersion', ref.apiVersion, ['v1']));
    if (!ref.name) errs.push(invalidValue('spec.boundObjectRef.name', ref.name ?? '', 'must be set'));
    pod = { name: ref.name ?? '', ...(ref.uid ? { uid: ref.uid } : {}) };
  }
  if (errs.length) throw invalid('TokenRequest', name, errs, 'authentication.k8s.io');
  return { audiences, expirationSeconds, pod };
}

/**
 * Issues the token for `serviceaccounts/{name}/token` in `namespace`; 404 when the account (or
 * the bound pod) does not exist, 409 when the bound pod's uid is not the one named.
 */
export async function createToken(namespace: string, name: string, body: Record<string, unknown>, deps: {
  issuer: TokenIssuer; audiences: string[]; objects: ObjectReader; clock: () => Date; dryRun: boolean;
}): Promise<TokenRequest> {
  const req = parseTokenRequest(name, body, deps.audiences);
  const sa = (await deps.objects.get('', 'serviceaccounts', namespace, name)) as ServiceAccount | undefined;
  if (!sa) throw notFound('serviceaccounts', name);
  let pod: { name: string; uid: string } | undefined;
  if (req.pod) {
    const p = (await deps.objects.get('', 'pods', namespace, req.pod.name)) as Pod | undefined;
    if (!p) throw notFound('pods', req.pod.name);
    const uid = p.metadata?.uid ?? '';
    if (req.pod.uid && req.pod.uid !== uid) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods ${JSON.stringify(req.pod.name)}: the UID in the bound object reference (${req.pod.uid}) does not match the UID in record. The object might have been deleted and then recreated`, [], { name: req.pod.name, kind: 'pods' });
    }
    if ((p.spec?.serviceAccountName ?? 'default') !== name) {
      throw badRequest(`cannot bind token for pod ${JSON.stringify(req.pod.name)}: its service account is ${JSON.stringify(p.spec?.serviceAccountName ?? '')}, not ${JSON.stringify(name)}`);
    }
    pod = { name: req.pod.name, uid };
  }
  const spec: TokenRequest['spec'] = {
    audiences: req.audiences, expirationSeconds: req.expirationSeconds,
    ...(pod ? { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.name, uid: pod.uid } } : {}),
  };
  const base = { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { name, namespace, creationTimestamp: null as unknown as string }, spec };
  if (deps.dryRun) return { ...base, status: { token: '', expirationTimestamp: rfc3339(new Date(deps.clock().getTime() + req.expirationSeconds * 1000)) } } as TokenRequest;
  const { token, expirationTimestamp } = await deps.issuer.issue({
    namespace, serviceAccount: { name, uid: sa.metadata?.uid ?? '' }, pod, audiences: req.audiences, expirationSeconds: req.expirationSeconds,
  });
  return { ...base, status: { token, expirationTimestamp: rfc3339(expirationTimestamp) } } as TokenRequest;
}
