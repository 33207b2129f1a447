/**
 * The text of `describe service` and `describe endpoints`, laid out as kubectl 1.32 lays it
 * out (`describeService`, `describeEndpoints`). Pure functions of the objects, their events and
 * the current time.
 */
import type { Endpoints, EndpointSlice, Event, Service } from '../../api/types.js';
import { formatLabels } from '../../api/labels.js';
import { formatEndpointSlices, loadBalancerIngressString } from '../../api/servicestatus.js';
import { annotationsMultiline, describeEvents, multiline, Out } from './describers.js';

/** `describe service`: its addresses, each port with its ready endpoints (from EndpointSlices), policies, events. */
export function describeService(svc: Service, slices: readonly EndpointSlice[], events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = svc.metadata ?? {};
  const spec = svc.spec ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `Selector:\t${formatLabels(spec.selector)}\n`);
  out.w(0, `Type:\t${spec.type ?? ''}\n`);
  if (spec.ipFamilyPolicy) out.w(0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  out.w(0, `IP Families:\t${(spec.ipFamilies ?? []).length ? (spec.ipFamilies ?? []).join(',') : '<none>'}\n`);
  out.w(0, `IP:\t${spec.clusterIP ?? ''}\n`);
  out.w(0, `IPs:\t${(spec.clusterIPs ?? []).length ? (spec.clusterIPs ?? []).join(',') : '<none>'}\n`);
  if ((spec.externalIPs ?? []).length) out.w(0, `External IPs:\t${(spec.externalIPs ?? []).join(',')}\n`);
  if (spec.loadBalancerIP) out.w(0, `IP:\t${spec.loadBalancerIP}\n`);
  if (spec.externalName) out.w(0, `External Name:\t${spec.externalName}\n`);
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length) out.w(0, `LoadBalancer Ingress:\t${loadBalancerIngressString(ingress, true)}\n`);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    const protocol = p.protocol ?? 'TCP';
    out.w(0, `Port:\t${name}\t${p.port}/${protocol}\n`);
    out.w(0, `TargetPort:\t${p.targetPort ?? p.port}/${protocol}\n`);
    if (p.nodePort) out.w(0, `NodePort:\t${name}\t${p.nodePort}/${protocol}\n`);
    out.w(0, `Endpoints:\t${formatEndpointSlices(slices, p.name ?? '')}\n`);
  }
  out.w(0, `Session Affinity:\t${spec.sessionAffinity ?? ''}\n`);
  if (spec.externalTrafficPolicy) out.w(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec.healthCheckNodePort) out.w(0, `HealthCheck NodePort:\t${spec.healthCheckNodePort}\n`);
  if ((spec.loadBalancerSourceRanges ?? []).length) out.w(0, `LoadBalancer Source Ranges:\t${(spec.loadBalancerSourceRanges ?? []).join(',')}\n`);
  if (spec.internalTrafficPolicy) out.w(0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
  describeEvents(out, events, now);
  return out.toString();
}

/** `describe endpoints`: each subset's ready and not-ready addresses and its ports. */
export function describeEndpoints(ep: Endpoints, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = ep.metadata ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, 'Subsets:\n');
  for (const ss of ep.subsets ?? []) {
    out.w(1, `Addresses:\t${(ss.addresses ?? []).map((a) => a.ip).join(',') || '<none>'}\n`);
    out.w(1, `NotReadyAddresses:\t${(ss.notReadyAddresses ?? []).map((a) => a.ip).join(',') || '<none>'}\n`);
    if ((ss.ports ?? []).length) {
      out.w(1, 'Ports:\n');
      out.w(2, 'Name\tPort\tProtocol\n');
      out.w(2, '----\t----\t--------\n');
      for (const p of ss.ports ?? []) out.w(2, `${p.name || '<unset>'}\t${p.port}\t${p.protocol ?? 'TCP'}\n`);
    }
    out.w(0, '\n');
  }
  describeEvents(out, events, now);
  return out.toString();
}
