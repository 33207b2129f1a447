/**
 * What the EndpointSlice controllers want (Kubernetes' `pkg/controller/endpointslice` reconciler
 * and `endpointslicemirroring`): a Service's EndpointSlices, from its pods (the endpointslice
 * controller) or from the user's Endpoints of a selector-less Service (the mirroring
 * controller). Both reconcile the same way ({@link reconcileSlices}): endpoints stay in the
 * slice they are in when they can, new ones fill slices with room before new slices (at most
 * 100 endpoints each) are created, slices left empty are deleted. Pure functions; the
 * controllers carry the plans out.
 */
import type { EndpointSlice, Endpoints, OwnerReference, Pod, Service, SliceEndpoint, SliceEndpointPort } from '../api/types.js';
import { parseIPv4 } from '../api/ip.js';
import { jsonEqual } from '../api/json.js';
import { HEADLESS_LABEL, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR } from '../api/endpoints.js';
import { compareAddresses, findPort, hasSelector, podIPv4, shouldPodBeInEndpoints, shouldSetHostname } from './endpointsplan.js';
import { isPodReady } from './podutil.js';

export { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR };
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
/** `--max-endpoints-per-slice` default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** The mirroring controller copies at most this many addresses of one Endpoints object. */
export const MAX_MIRRORED_ENDPOINTS = 1000;

/** Endpoints that share one set of ports, and so belong in the same slices. */
export interface EndpointGroup {
  ports: SliceEndpointPort[];
  endpoints: SliceEndpoint[];
}

/** What every slice of one owner carries: where it lives, its labels and owner. */
export interface SliceTemplate {
  namespace: string;
  /** `generateName` of new slices, e.g. `myapp-`. */
  generateName: string;
  labels: Record<string, string>;
  ownerReferences: OwnerReference[];
  /** Keep one empty slice when there is nothing to list (the endpointslice controller does). */
  placeholder: boolean;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

export const emptyPlan = (): SlicePlan => ({ create: [], update: [], delete: [] });

const portsKey = (addressType: string, ports: readonly SliceEndpointPort[] | undefined): string =>
  JSON.stringify([addressType, [...(ports ?? [])].map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort()]);
const endpointKey = (e: SliceEndpoint): string => `${e.addresses?.[0] ?? ''}/${e.targetRef?.uid ?? ''}`;
const byAddress = (a: SliceEndpoint, b: SliceEndpoint): number =>
  compareAddresses(a.addresses?.[0] ?? '', b.addresses?.[0] ?? '') || (endpointKey(a) < endpointKey(b) ? -1 : 1);
const sortPorts = (ports: SliceEndpointPort[]): SliceEndpointPort[] =>
  [...ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0) || (a.protocol ?? '').localeCompare(b.protocol ?? ''));

/** `generateName` of a Service's slices: its name and a dash, cut to leave room for the suffix. */
export const slicePrefix = (name: string): string => `${name.length > 57 ? name.slice(0, 57) : name}-`;

/** Labels of a slice: the owner's own (reserved keys aside), then the service name and manager. */
export function sliceLabels(own: Readonly<Record<string, string>> | undefined, serviceName: string, manager: string, headless: boolean): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(own ?? {})) {
    if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY && k !== HEADLESS_LABEL) labels[k] = v;
  }
  if (headless) labels[HEADLESS_LABEL] = '';
  labels[LABEL_SERVICE_NAME] = serviceName;
  labels[LABEL_MANAGED_BY] = manager;
  return labels;
}

function buildSlice(tpl: SliceTemplate, orig: EndpointSlice | undefined, ports: SliceEndpointPort[], endpoints: SliceEndpoint[]): EndpointSlice {
  const metadata = orig
    ? { ...orig.metadata, labels: tpl.labels, ownerReferences: tpl.ownerReferences }
    : { generateName: tpl.generateName, namespace: tpl.namespace, labels: tpl.labels, ownerReferences: tpl.ownerReferences };
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata,
    addressType: 'IPv4',
    endpoints: [...endpoints].sort(byAddress),
    ...(ports.length ? { ports: sortPorts(ports) } : {}),
  };
}

const changed = (a: EndpointSlice, b: EndpointSlice): boolean =>
  !jsonEqual(a.endpoints ?? [], b.endpoints ?? []) || !jsonEqual(a.ports ?? [], b.ports ?? []) ||
  !jsonEqual(a.metadata?.labels ?? {}, b.metadata?.labels ?? {}) || !jsonEqual(a.metadata?.ownerReferences ?? [], b.metadata?.ownerReferences ?? []) ||
  a.addressType !== b.addressType;

/**
 * Turns the existing slices of one owner into the desired groups with few writes: each existing
 * slice keeps the desired endpoints it already holds (updated in place), slices with room take
 * the new ones, further ones go to new slices of at most `max`; slices whose ports are no longer
 * wanted, or that end up empty, are deleted. With nothing to list, one empty placeholder slice
 * stays when `tpl.placeholder` (an existing one is reused), else all go.
 */
export function reconcileSlices(groups: readonly EndpointGroup[], existing: readonly EndpointSlice[], tpl: SliceTemplate, max = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  const plan = emptyPlan();
  const total = groups.reduce((n, g) => n + g.endpoints.length, 0);
  if (total === 0) {
    if (!tpl.placeholder) return { ...plan, delete: [...existing] };
    const keep = existing.find((s) => !(s.endpoints ?? []).length && !(s.ports ?? []).length && s.addressType === 'IPv4');
    if (keep) {
      const next = buildSlice(tpl, keep, [], []);
      if (changed(keep, next)) plan.update.push(next);
    } else {
      plan.create.push(buildSlice(tpl, undefined, [], []));
    }
    plan.delete.push(...existing.filter((s) => s !== keep));
    return plan;
  }
  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const key = portsKey(s.addressType, s.ports);
    byKey.set(key, [...(byKey.get(key) ?? []), s]);
  }
  const wanted = new Set<string>();
  for (const g of groups) {
    if (!g.endpoints.length) continue;
    const key = portsKey('IPv4', g.ports);
    wanted.add(key);
    const want = new Map(g.endpoints.map((e) => [endpointKey(e), e]));
    const slices = (byKey.get(key) ?? []).map((orig) => {
      const eps: SliceEndpoint[] = [];
      for (const e of orig.endpoints ?? []) {
        const k = endpointKey(e);
        const desired = want.get(k);
        if (desired && eps.length < max) {
          eps.push(desired);
          want.delete(k);
        }
      }
      return { orig, eps };
    });
    const remaining = [...want.values()].sort(byAddress);
    // Fullest first, so that endpoints gather in few slices.
    for (const s of [...slices].sort((a, b) => b.eps.length - a.eps.length)) {
      while (s.eps.length < max && remaining.length) s.eps.push(remaining.shift() as SliceEndpoint);
    }
    for (const s of slices) {
      if (!s.eps.length) {
        plan.delete.push(s.orig);
        continue;
      }
      const next = buildSlice(tpl, s.orig, g.ports, s.eps);
      if (changed(s.orig, next)) plan.update.push(next);
    }
    while (remaining.length) plan.create.push(buildSlice(tpl, undefined, g.ports, remaining.splice(0, max)));
  }
  for (const [key, slices] of byKey) if (!wanted.has(key)) plan.delete.push(...slices);
  return plan;
}

/**
 * The endpointslice controller's endpoints of a Service (`podToEndpoint`): every selected pod
 * with an IPv4 address that is not finished — terminating ones included, marked so — with
 * ready (= serving and not terminating, or `publishNotReadyAddresses`), serving and terminating
 * conditions, its node, a `targetRef` and (headless, hostname + subdomain) a hostname; grouped
 * by the ports its named target ports resolve to. Pods that declare none of the named ports go
 * into a group without ports, as in Kubernetes.
 */
export function desiredServiceGroups(svc: Service, pods: readonly Pod[]): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  const servicePorts = svc.spec?.ports ?? [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const ports: SliceEndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const serving = isPodReady(pod);
    const terminating = !!pod.metadata?.deletionTimestamp;
    const endpoint: SliceEndpoint = {
      addresses: [ip],
      conditions: { ready: svc.spec?.publishNotReadyAddresses === true || (serving && !terminating), serving, terminating },
      ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec?.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    };
    const key = portsKey('IPv4', ports);
    const g = groups.get(key);
    if (g) g.endpoints.push(endpoint);
    else groups.set(key, { ports, endpoints: [endpoint] });
  }
  return [...groups.values()];
}

/**
 * The endpointslice controller's plan for one Service, given the slices it manages for it:
 * none for a deleted Service, a selector-less or ExternalName one (slices of a Service that lost
 * its selector go); else {@link reconcileSlices} of {@link desiredServiceGroups}, owned by the
 * Service, with a placeholder when nothing is selected.
 */
export function planServiceSlices(svc: Service | undefined, pods: readonly Pod[], existing: readonly EndpointSlice[], max = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  if (!svc || !hasSelector(svc)) return { ...emptyPlan(), delete: [...existing] };
  const name = svc.metadata?.name ?? '';
  const tpl: SliceTemplate = {
    namespace: svc.metadata?.namespace ?? '',
    generateName: slicePrefix(name),
    labels: sliceLabels(svc.metadata?.labels, name, SLICE_CONTROLLER, svc.spec?.clusterIP === 'None'),
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    placeholder: true,
  };
  return reconcileSlices(desiredServiceGroups(svc, pods), existing, tpl, max);
}

/**
 * The mirroring controller's endpoints of user-written Endpoints: each subset's addresses
 * (ready) and notReadyAddresses (not ready), IPv4 only, grouped by the subset's ports; at most
 * {@link MAX_MIRRORED_ENDPOINTS}.
 */
export function mirroredGroups(ep: Endpoints): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  let budget = MAX_MIRRORED_ENDPOINTS;
  for (const ss of ep.subsets ?? []) {
    const ports: SliceEndpointPort[] = (ss.ports ?? []).map((p) => ({
      name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    const key = portsKey('IPv4', ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    const seen = new Set(g.endpoints.map((e) => e.addresses[0]));
    for (const [list, ready] of [[ss.addresses ?? [], true], [ss.notReadyAddresses ?? [], false]] as const) {
      for (const a of list) {
        if (budget <= 0 || parseIPv4(a.ip) === undefined || seen.has(a.ip)) continue;
        seen.add(a.ip);
        budget--;
        g.endpoints.push({
          addresses: [a.ip], conditions: { ready },
          ...(a.hostname ? { hostname: a.hostname } : {}),
          ...(a.nodeName ? { nodeName: a.nodeName } : {}),
          ...(a.targetRef ? { targetRef: a.targetRef } : {}),
        });
      }
    }
  }
  return [...groups.values()];
}

/**
 * The mirroring controller's plan for one Endpoints object (`namespace/name` of a Service):
 * mirror it when its Service exists without a selector and it is not marked
 * `endpointslice.kubernetes.io/skip-mirror: "true"`; otherwise delete the mirrored slices.
 * Mirrored slices are owned by the Endpoints object and carry its labels.
 */
export function planMirroredSlices(ep: Endpoints | undefined, svc: Service | undefined, existing: readonly EndpointSlice[], max = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  const selectorless = !!svc && Object.keys(svc.spec?.selector ?? {}).length === 0;
  if (!ep || !selectorless || ep.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true') return { ...emptyPlan(), delete: [...existing] };
  const name = ep.metadata?.name ?? '';
  const tpl: SliceTemplate = {
    namespace: ep.metadata?.namespace ?? '',
    generateName: slicePrefix(name),
    labels: sliceLabels(ep.metadata?.labels, name, MIRRORING_CONTROLLER, false),
    ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name, uid: ep.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    placeholder: false,
  };
  return reconcileSlices(mirroredGroups(ep), existing, tpl, max);
}
