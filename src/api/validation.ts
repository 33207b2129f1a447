/**
 * Validation of every kind minikube-lite serves, returning `FieldError[]` with Kubernetes'
 * field paths and messages (`pkg/apis/core/validation/validation.go`). Each function expects the
 * kind's defaults applied first, as the API server does, and returns every problem found, each
 * distinct problem once; an empty list means valid. Pure; never throws for user mistakes.
 *
 * Pod rules live in `podvalidation.ts`, metadata rules in `metavalidation.ts`, Deployment and
 * ReplicaSet rules in `appsvalidation.ts`.
 */
import type { Deployment, Endpoints, EndpointSlice, Event, Namespace, Node, Pod, ReplicaSet, Service } from './types.js';
import type { FieldError } from './errors.js';
import type { UpdateSubresource } from './resource.js';
import { invalidValue, required, requiredWithDetail } from './errors.js';
import { isDNS1123Subdomain, nameIsDNSLabel, nameIsDNSSubdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import * as pods from './podvalidation.js';
import * as apps from './appsvalidation.js';
import * as services from './servicevalidation.js';
import * as endpoints from './endpoints.js';

export { validateAnnotations, validateLabelSelector, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
export type { NameValidator } from './metavalidation.js';
export { POD_UPDATE_FORBIDDEN_MESSAGE } from './podvalidation.js';

/** Drops repeated problems (same field, same message), keeping the first. */
function unique(errs: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const key = `${e.field}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A pod on create, or on update when `old` is given (then the spec is immutable except for
 * images, a shorter activeDeadlineSeconds, added tolerations). An update through the
 * `ephemeralcontainers` subresource has its own rules: ephemeral containers may be added, never
 * changed or removed.
 */
export function validatePod(pod: Pod, old?: Pod, subresource?: UpdateSubresource): FieldError[] {
  if (old && subresource === 'ephemeralcontainers') return unique(pods.validatePodEphemeralContainersUpdate(pod, old));
  return unique(old ? pods.validatePodUpdate(pod, old) : pods.validatePod(pod));
}

/**
 * A Deployment on create, or on update when `old` is given: selector (required, not empty,
 * matching the template's labels, immutable), replicas, the pod template (validated as a pod
 * spec, restartPolicy Always), strategy, revision history limit, progress deadline, status counts.
 */
export function validateDeployment(d: Deployment, old?: Deployment): FieldError[] {
  return unique(apps.validateDeployment(d, old));
}

/** A ReplicaSet on create, or on update when `old` is given (see {@link validateDeployment}). */
export function validateReplicaSet(rs: ReplicaSet, old?: ReplicaSet): FieldError[] {
  return unique(apps.validateReplicaSet(rs, old));
}

/** A node: a DNS-1123 subdomain name, labels, no namespace. */
export function validateNode(node: Node, old?: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(node.metadata, old.metadata));
  return unique(errs);
}

/** A namespace: a DNS-1123 label name (at most 63 characters, no dots), no namespace. */
export function validateNamespace(ns: Namespace, old?: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
  if (old) errs.push(...validateObjectMetaUpdate(ns.metadata, old.metadata));
  return unique(errs);
}

/**
 * A core/v1 event, checked as Kubernetes checks v1 events (`legacyValidateEvent`): the
 * namespace is a DNS subdomain and agrees with `involvedObject.namespace` (an event about a
 * cluster-scoped object lives in `default`). Events written in the newer style (`eventTime`
 * set) also need `reportingComponent`, `reportingInstance`, `action` and `reason`.
 * minikube-lite also requires a name (or generateName) and an `involvedObject`.
 */
export function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const ns = ev.metadata?.namespace ?? '';
  if (!ev.metadata?.name && !ev.metadata?.generateName) errs.push(requiredWithDetail('metadata.name', 'name or generateName is required'));
  const involved = ev.involvedObject as Event['involvedObject'] | undefined;
  if (!involved || (!involved.kind && !involved.name)) errs.push(required('involvedObject'));
  const involvedNs = involved?.namespace ?? '';
  if (!ev.eventTime) {
    if (involvedNs ? ns !== involvedNs : ns !== '' && ns !== 'default') {
      errs.push(invalidValue('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalidValue('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    if (!ev.reportingComponent) errs.push(required('reportingComponent'));
    if (!ev.reportingInstance) errs.push(required('reportingInstance'));
    if (!ev.action) errs.push(required('action'));
    if (!ev.reason) errs.push(required('reason'));
  }
  for (const msg of isDNS1123Subdomain(ns)) errs.push(invalidValue('namespace', ns, msg));
  return unique(errs);
}

/**
 * A Service on create, or on update when `old` is given: see `servicevalidation.ts` (cluster-
 * dependent checks — IP range, taken IPs and node ports — are the API server's allocator's).
 */
export function validateService(svc: Service, old?: Service): FieldError[] {
  return unique(services.validateService(svc, old));
}

/** Endpoints on create, or on update when `old` is given: see `endpoints.ts`. */
export function validateEndpoints(ep: Endpoints, old?: Endpoints): FieldError[] {
  return unique(endpoints.validateEndpoints(ep, old));
}

/** An EndpointSlice on create, or on update when `old` is given: see `endpoints.ts`. */
export function validateEndpointSlice(slice: EndpointSlice, old?: EndpointSlice): FieldError[] {
  return unique(endpoints.validateEndpointSlice(slice, old));
}
