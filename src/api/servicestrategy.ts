/**
 * The Service strategy (Kubernetes' `pkg/registry/core/service/strategy.go` and the parts of
 * its REST storage that only rearrange fields): what the API server does to a Service between
 * defaulting and validation. Keeps `clusterIP` and `clusterIPs` in sync, keeps allocated
 * values a client left out on update (so `kubectl apply` of a manifest without `clusterIP` or
 * `nodePort` is a no-op), and wipes type-dependent fields the user did not touch when the type
 * changes (so ClusterIP → ExternalName releases the IP). Pure: changes the object in place.
 */
import type { UpdateSubresource } from './resource.js';
import type { Service, ServiceSpec, ServiceStatus } from './types.js';
import { externallyAccessible } from './servicevalidation.js';

type Spec = ServiceSpec;

/** Every type but ExternalName has a clusterIP (headless counts: `None` is a value). */
export const needsClusterIP = (svc: Service): boolean => svc.spec?.type !== 'ExternalName';
/** NodePort and LoadBalancer Services carry node ports. */
export const needsNodePort = (svc: Service): boolean => svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
/** A LoadBalancer with `externalTrafficPolicy: Local` carries a health-check node port. */
export const needsHealthCheckNodePort = (svc: Service): boolean => svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
/** Whether the API server allocates node ports the user did not give (LoadBalancers may opt out). */
export const allocatesNodePorts = (svc: Service): boolean =>
  svc.spec?.type === 'NodePort' || (svc.spec?.type === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false);

/** The API server owns status; `kubernetes-types` marks it read-only for clients. */
const setStatus = (svc: Service, status: ServiceStatus): void => {
  (svc as { status?: ServiceStatus }).status = status;
};

const sameList = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
const nodePortsOf = (spec: Spec | undefined): number[] => (spec?.ports ?? []).map((p) => p.nodePort ?? 0);

/** `NormalizeClusterIPs`: derive what the client meant when it set only one of the two fields. */
export function normalizeClusterIPs(svc: Service, old?: Service): void {
  const spec = (svc.spec ??= {});
  if (!old) {
    if (spec.clusterIP && !(spec.clusterIPs ?? []).length) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const before = old.spec ?? {};
  // An older client that does not know clusterIPs left them out.
  if ((before.clusterIPs ?? []).length > 0 && !(spec.clusterIPs ?? []).length && (before.clusterIP ?? '') === (spec.clusterIP ?? '')) {
    spec.clusterIPs = [...(before.clusterIPs ?? [])];
  }
  if ((before.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    const same = sameList(before.clusterIPs, spec.clusterIPs);
    if (before.clusterIP && !spec.clusterIP && same) delete spec.clusterIPs;
    if (spec.clusterIP && same) spec.clusterIPs = [spec.clusterIP];
  }
}

/** `patchAllocatedValues`: an update that leaves out allocated values keeps them. */
export function patchAllocatedValues(svc: Service, old: Service): void {
  const spec = (svc.spec ??= {});
  const before = old.spec ?? {};
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && before.clusterIP) spec.clusterIP = before.clusterIP;
    if (!(spec.clusterIPs ?? []).length && (before.clusterIPs ?? []).length && spec.clusterIP === before.clusterIP) {
      spec.clusterIPs = [...(before.clusterIPs ?? [])];
    }
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const used = new Set(nodePortsOf(spec).filter((n) => n !== 0));
    const byName = new Map((before.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const previous = byName.get(p.name ?? '') ?? 0;
      if (previous && !used.has(previous)) p.nodePort = previous;
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && !spec.healthCheckNodePort && before.healthCheckNodePort) {
    spec.healthCheckNodePort = before.healthCheckNodePort;
  }
}

/** `dropTypeDependentFields`: on a type change, wipe what no longer applies if the user left it as it was. */
export function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = (svc.spec ??= {});
  const before = old.spec ?? {};
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if ((spec.clusterIP ?? '') === (before.clusterIP ?? '') && sameList(spec.clusterIPs, before.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameList(spec.ipFamilies, before.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === before.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(svc) && sameList(nodePortsOf(spec), nodePortsOf(before))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(svc) && (spec.healthCheckNodePort ?? 0) === (before.healthCheckNodePort ?? 0)) {
    delete spec.healthCheckNodePort;
  }
  if (before.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts === before.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass === before.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && spec.externalTrafficPolicy === before.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  if (spec.type !== 'LoadBalancer') setStatus(svc, { ...(svc.status ?? {}), loadBalancer: {} });
}

/** `PrepareForCreate`: clients do not set status; clusterIPs follow clusterIP. */
export function prepareServiceCreate(svc: Service): void {
  setStatus(svc, { loadBalancer: {} });
  normalizeClusterIPs(svc);
}

/**
 * `PrepareForUpdate` of the main resource (the generic rules have already kept the stored
 * status) and of `status` (nothing but status changes, so nothing to do here).
 */
export function prepareServiceUpdate(svc: Service, old: Service, _requested: Service, subresource: UpdateSubresource): void {
  if (subresource === 'status') return;
  patchAllocatedValues(svc, old);
  normalizeClusterIPs(svc, old);
  dropTypeDependentFields(svc, old);
}
