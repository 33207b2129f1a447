/**
 * The text of `describe ingress`, laid out as kubectl 1.32 lays it out (`describeIngressV1`):
 * address, class, default backend, TLS, then each rule's paths with their backends and the
 * ready endpoints of the Service port each names. Pure: the caller fetches Services and Endpoints.
 */
import type { Endpoints, Event, Service } from '../../api/types.js';
import type { Ingress, IngressBackend } from '../../api/ingressvalidation.js';
import { formatEndpoints } from '../../api/servicestatus.js';
import { annotationsMultiline, describeEvents, multiline, Out } from './describers.js';

/** What a backend's line needs: the Service and Endpoints of that name in the Ingress's namespace, if they exist. */
export interface BackendLookup {
  service(name: string): Service | undefined;
  endpoints(name: string): Endpoints | undefined;
}

/** `web:80 (10.244.1.5:80)`, as `describeBackendV1` prints it. */
export function describeBackend(b: IngressBackend, lookup: BackendLookup): string {
  const svc = b.service;
  if (!svc) return b.resource ? `APIGroup: ${b.resource.apiGroup ?? ''}, Kind: ${b.resource.kind}, Name: ${b.resource.name}` : '';
  const port = svc.port?.name || String(svc.port?.number ?? '');
  const service = lookup.service(svc.name);
  const ep = lookup.endpoints(svc.name);
  if (!service) return `${svc.name}:${port} (<error: services "${svc.name}" not found>)`;
  if (!ep) return `${svc.name}:${port} (<error: endpoints "${svc.name}" not found>)`;
  let spName = '';
  for (const sp of service.spec?.ports ?? []) {
    if ((svc.port?.number && svc.port.number === sp.port) || (svc.port?.name && svc.port.name === sp.name)) spName = sp.name ?? '';
  }
  return `${svc.name}:${port} (${formatEndpoints(ep, new Set([spName]))})`;
}

export function describeIngress(ing: Ingress, lookup: BackendLookup, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = ing.metadata ?? {};
  const spec = ing.spec ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  multiline(out, 'Labels', m.labels);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `Address:\t${(ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',')}\n`);
  out.w(0, `Ingress Class:\t${spec.ingressClassName ?? '<none>'}\n`);
  const def = spec.defaultBackend ? describeBackend(spec.defaultBackend, lookup) : '<default>';
  out.w(0, `Default backend:\t${def}\n`);
  if ((spec.tls ?? []).length) {
    out.w(0, 'TLS:\n');
    for (const t of spec.tls ?? []) {
      out.w(1, t.secretName ? `${t.secretName} terminates ${(t.hosts ?? []).join(',')}\n` : `SNI routes ${(t.hosts ?? []).join(',')}\n`);
    }
  }
  out.w(0, 'Rules:\n  Host\tPath\tBackends\n');
  out.w(1, '----\t----\t--------\n');
  let count = 0;
  for (const rule of spec.rules ?? []) {
    if (!rule.http) continue;
    count++;
    out.w(1, `${rule.host || '*'}\t\n`);
    for (const p of rule.http.paths ?? []) out.w(2, `\t${p.path ?? ''} \t${describeBackend(p.backend, lookup)}\n`);
  }
  if (count === 0) out.w(1, `*\t*\t${def}\n`);
  annotationsMultiline(out, m.annotations);
  describeEvents(out, events, now);
  return out.toString();
}
