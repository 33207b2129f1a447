/**
 * What the endpoints controller wants (Kubernetes' `pkg/controller/endpoint` and
 * `pkg/api/v1/pod` `FindPort`): the Endpoints object of a Service, computed from the Service and
 * the pods its selector picks. Pure functions; the controller (`endpoints.ts`) carries the plan
 * out. The helpers about pods and ports are shared with the EndpointSlice planner.
 */
import type { Endpoints, EndpointAddress, EndpointSubset, CoreEndpointPort, Pod, Service, ServicePort } from '../api/types.js';
import { HEADLESS_LABEL } from '../api/endpoints.js';
import { parseIPv4 } from '../api/ip.js';
import { jsonEqual } from '../api/json.js';
import { isPodReady } from './podutil.js';

/** Annotation marking Endpoints cut down to {@link MAX_ENDPOINTS_ADDRESSES}. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Kubernetes stops at 1000 addresses per Endpoints object. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

/**
 * Whether the Service's selector picks pods at all. A missing or empty selector means the
 * Service is selector-less: its Endpoints are the user's (Kubernetes' JSON drops an empty map,
 * so the two cannot be told apart there either). ExternalName Services have no endpoints.
 */
export function hasSelector(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** `ShouldPodBeInEndpoints`: not finished, has an IP, and (unless `includeTerminating`) not being deleted. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  return includeTerminating || !pod.metadata?.deletionTimestamp;
}

/** The pod's IPv4 address, if it has one. */
export function podIPv4(pod: Pod): string | undefined {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)];
  return ips.find((ip): ip is string => !!ip && parseIPv4(ip) !== undefined);
}

/**
 * `FindPort`: the pod's port number for a Service port. A number is taken as it is; a name is
 * looked up among the containers' (and restartable init containers') ports of the same
 * protocol. Undefined when no container declares it.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  const protocol = sp.protocol ?? 'TCP';
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === tp && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** A headless Service's pod with `hostname` and `subdomain` = the Service's name gets a DNS hostname. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** A Service port whose named target port some selected pods do not declare. */
export interface UnresolvedPort {
  port: ServicePort;
  pods: string[];
}

/** The Service ports that could not be resolved for some pods (for the Warning event). */
export function unresolvedPorts(svc: Service, pods: readonly Pod[]): UnresolvedPort[] {
  const out: UnresolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const missing = pods.filter((p) => shouldPodBeInEndpoints(p, true) && findPort(p, sp) === undefined).map((p) => p.metadata?.name ?? '');
    if (missing.length) out.push({ port: sp, pods: missing.sort() });
  }
  return out;
}

/** Addresses compared as Kubernetes sorts them: by IP (numerically for IPv4), then by pod uid. */
export function compareAddresses(a: string, b: string): number {
  const na = parseIPv4(a);
  const nb = parseIPv4(b);
  if (na !== undefined && nb !== undefined) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

const portKey = (ports: readonly CoreEndpointPort[]): string =>
  JSON.stringify([...ports].map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());

/** The labels a Service's Endpoints carry: the Service's own, plus the headless mark. */
export function endpointsLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/**
 * The subsets of a Service's Endpoints (`syncService` + `RepackSubsets`): one address per
 * selected pod with an IP, in `addresses` when Ready (or `publishNotReadyAddresses`), else in
 * `notReadyAddresses`; pods being deleted only with `publishNotReadyAddresses`. Pods are grouped
 * by the port numbers their named target ports resolve to; a pod whose port cannot be resolved is
 * left out of that port. A headless Service without ports lists bare addresses.
 */
export function desiredSubsets(svc: Service, pods: readonly Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const tolerate = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: CoreEndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  const add = (ports: CoreEndpointPort[], addr: EndpointAddress, ready: boolean): void => {
    const key = portKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: [], notReady: [] }));
    (ready ? g.ready : g.notReady).push(addr);
  };
  const servicePorts = svc.spec?.ports ?? [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerate)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const addr: EndpointAddress = {
      ip,
      ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec?.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    };
    const ready = tolerate || isPodReady(pod);
    if (servicePorts.length === 0) {
      if (svc.spec?.clusterIP === 'None') add([], addr, ready);
      continue;
    }
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: CoreEndpointPort = { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) };
      add([ep], addr, ready);
    }
  }
  // Repack: one subset per distinct set of ports an address set shares.
  const byAddresses = new Map<string, { ports: CoreEndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const g of groups.values()) {
    const key = JSON.stringify([g.ready.map((a) => a.ip + (a.targetRef?.uid ?? '')).sort(), g.notReady.map((a) => a.ip + (a.targetRef?.uid ?? '')).sort()]);
    const same = byAddresses.get(key);
    if (same) same.ports.push(...g.ports);
    else byAddresses.set(key, { ports: [...g.ports], ready: g.ready, notReady: g.notReady });
  }
  let budget = MAX_ENDPOINTS_ADDRESSES;
  let truncated = false;
  const byIP = (a: EndpointAddress, b: EndpointAddress) => compareAddresses(a.ip, b.ip) || ((a.targetRef?.uid ?? '') < (b.targetRef?.uid ?? '') ? -1 : 1);
  const subsets: EndpointSubset[] = [];
  for (const g of byAddresses.values()) {
    let ready = [...g.ready].sort(byIP);
    let notReady = [...g.notReady].sort(byIP);
    if (ready.length + notReady.length > budget) {
      truncated = true;
      ready = ready.slice(0, budget);
      notReady = notReady.slice(0, Math.max(0, budget - ready.length));
    }
    budget -= ready.length + notReady.length;
    if (!ready.length && !notReady.length) continue;
    const ports = [...g.ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    subsets.push({
      ...(ready.length ? { addresses: ready } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ...(ports.length ? { ports } : {}),
    });
  }
  subsets.sort((a, b) => compareAddresses((a.addresses ?? a.notReadyAddresses ?? [])[0]?.ip ?? '', (b.addresses ?? b.notReadyAddresses ?? [])[0]?.ip ?? ''));
  return { subsets, truncated };
}

export type EndpointsPlan =
  | { action: 'none' }
  | { action: 'delete' }
  | { action: 'create' | 'update'; endpoints: Endpoints };

/**
 * What to do with the Endpoints named after a Service: delete them when the Service is gone;
 * leave them alone for selector-less Services (they are the user's); else create or update them
 * to the desired subsets and labels, or nothing when they already match.
 */
export function planEndpoints(svc: Service | undefined, pods: readonly Pod[], current: Endpoints | undefined): EndpointsPlan {
  if (!svc) return current ? { action: 'delete' } : { action: 'none' };
  if (!hasSelector(svc)) return { action: 'none' };
  const { subsets, truncated } = desiredSubsets(svc, pods);
  const labels = endpointsLabels(svc);
  const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  if (current && jsonEqual(current.subsets ?? [], subsets) && jsonEqual(current.metadata?.labels ?? {}, labels) &&
    jsonEqual(current.metadata?.annotations ?? {}, annotations)) {
    return { action: 'none' };
  }
  const endpoints: Endpoints = {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: {
      ...(current?.metadata ?? {}),
      name: svc.metadata?.name, namespace: svc.metadata?.namespace, labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    ...(subsets.length ? { subsets } : {}),
  };
  if (!Object.keys(annotations).length) delete endpoints.metadata?.annotations;
  return current ? { action: 'update', endpoints } : { action: 'create', endpoints };
}
