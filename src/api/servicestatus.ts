/**
 * The table rows `kubectl get services|endpoints|endpointslices` print and the endpoint lists
 * `kubectl describe` shows, computed as Kubernetes' printers do (`printService`,
 * `printEndpoints`, `printEndpointSlice`, `formatEndpoints`, `formatEndpointSlices`). The API
 * server's Table output and the CLI both use them. Pure functions; the time is a parameter.
 */
import type { Endpoints, EndpointSlice, LoadBalancerIngress, Service, ServicePort } from './types.js';
import { formatLabels } from './labels.js';
import { age } from './podstatus.js';

/** One `kubectl get services` row; `selector` is the `-o wide` column. */
export interface ServiceRow {
  name: string;
  type: string;
  clusterIP: string;
  externalIP: string;
  ports: string;
  age: string;
  selector: string;
}

/** `80/TCP`, or `80:30080/TCP` with a node port, comma-separated (`makePortString`). */
export function servicePortsString(ports: readonly ServicePort[] | undefined): string {
  return (ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

/** Load-balancer ingress addresses, cut to 13 characters and `...` past 16 unless wide. */
export function loadBalancerIngressString(ingress: readonly LoadBalancerIngress[] | undefined, wide: boolean): string {
  const s = (ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',');
  return !wide && s.length > 16 ? `${s.slice(0, 13)}...` : s;
}

/** The EXTERNAL-IP column (`getServiceExternalIP`). */
export function serviceExternalIP(svc: Service, wide: boolean): string {
  const external = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngressString(svc.status?.loadBalancer?.ingress, wide);
      if (external.length) return [...(lb ? lb.split(',') : []), ...external].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

export function serviceRow(svc: Service, now: Date, wide = true): ServiceRow {
  return {
    name: svc.metadata?.name ?? '',
    type: svc.spec?.type ?? '',
    clusterIP: svc.spec?.clusterIPs?.[0] ?? '<none>',
    externalIP: serviceExternalIP(svc, wide),
    ports: servicePortsString(svc.spec?.ports) || '<none>',
    age: age(svc.metadata?.creationTimestamp, now),
    selector: formatLabels(svc.spec?.selector),
  };
}

/** Up to three entries, then ` + N more...`; `empty` when there are none. */
function listWithMore(list: string[], count: number, empty: string): string {
  const max = 3;
  const shown = list.slice(0, max).join(',');
  if (count > max) return `${shown} + ${count - max} more...`;
  return shown || empty;
}

/**
 * The ENDPOINTS of `kubectl get endpoints` (`formatEndpoints`): ready `ip:port` pairs (bare IPs
 * for port-less subsets), the first three, then ` + N more...`; `<none>` when there are none.
 * `ports` keeps only the ports of those names (describe's per-port line).
 */
export function formatEndpoints(ep: Endpoints, ports?: ReadonlySet<string>): string {
  const list: string[] = [];
  let count = 0;
  for (const ss of ep.subsets ?? []) {
    const addrs = ss.addresses ?? [];
    if (!(ss.ports ?? []).length) {
      count += addrs.length;
      list.push(...addrs.map((a) => a.ip));
      continue;
    }
    for (const p of ss.ports ?? []) {
      if (ports && !ports.has(p.name ?? '')) continue;
      count += addrs.length;
      list.push(...addrs.map((a) => (a.ip.includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`)));
    }
  }
  return listWithMore(list, count, '<none>');
}

/**
 * describe's `Endpoints:` line from EndpointSlices (`formatEndpointSlices`): ready endpoints'
 * `ip:port` for the port named `portName` (bare IPs for port-less slices), three at most.
 */
export function formatEndpointSlices(slices: readonly EndpointSlice[], portName?: string): string {
  if (!slices.length) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const s of slices) {
    const ready = (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false);
    if (!(s.ports ?? []).length) {
      count += ready.length;
      list.push(...ready.map((e) => e.addresses[0]));
      continue;
    }
    for (const p of s.ports ?? []) {
      if (portName !== undefined && (p.name ?? '') !== portName) continue;
      count += ready.length;
      list.push(...ready.map((e) => `${e.addresses[0]}:${p.port ?? ''}`));
    }
  }
  return listWithMore(list, count, '');
}

/** One `kubectl get endpointslices` row. */
export interface EndpointSliceRow {
  name: string;
  addressType: string;
  ports: string;
  endpoints: string;
  age: string;
}

export function endpointSliceRow(slice: EndpointSlice, now: Date): EndpointSliceRow {
  const ports = (slice.ports ?? []).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name !== undefined && p.name !== null ? p.name : '*'));
  const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return {
    name: slice.metadata?.name ?? '',
    addressType: slice.addressType ?? '',
    ports: listWithMore(ports, ports.length, '<unset>'),
    endpoints: listWithMore(addresses, addresses.length, '<unset>'),
    age: age(slice.metadata?.creationTimestamp, now),
  };
}

/** One `kubectl get endpoints` row. */
export function endpointsRow(ep: Endpoints, now: Date): { name: string; endpoints: string; age: string } {
  return { name: ep.metadata?.name ?? '', endpoints: formatEndpoints(ep), age: age(ep.metadata?.creationTimestamp, now) };
}
