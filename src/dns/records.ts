/**
 * Cluster DNS records: from Services, EndpointSlices and Pods to answers, the way CoreDNS's
 * `kubernetes` plugin answers them (and as the Kubernetes DNS specification describes):
 *
 * - `<svc>.<ns>.svc.<domain>` A → the ClusterIP; for a headless Service the ready endpoint IPs;
 *   for an ExternalName Service a CNAME to its `externalName`;
 * - `<host>.<svc>.<ns>.svc.<domain>` A → that endpoint (its `hostname`, which StatefulSet pods
 *   and pods with `hostname` + `subdomain` get, or its dashed IP `10-244-1-5`);
 * - `_<port>._<proto>.<svc>.<ns>.svc.<domain>` SRV for each named port (and the bare service
 *   name's SRV query lists every named port);
 * - `<a-b-c-d>.<ns>.pod.<domain>` A → a.b.c.d when a pod of that namespace has that IP
 *   (CoreDNS's `pods verified`);
 * - PTR for ClusterIPs and for endpoint IPs of headless Services;
 * - the zone's own SOA/NS.
 *
 * A name in the domain that does not exist is NXDOMAIN; a name that exists without records of
 * the asked type is NOERROR with no answer (NODATA); both carry the zone's SOA for negative
 * caching. Names outside the domain (and reverse names that are not cluster addresses) are
 * "not ours": the server forwards them to an upstream resolver or answers NXDOMAIN at once.
 *
 * Everything here is pure: {@link buildIndex} turns objects into an index, {@link resolve}
 * answers one question from it. The server (server.ts) is a thin layer around this.
 */
import { isIPv4 } from 'node:net';
import type { Answer, Question, RecordType } from 'dns-packet';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from '../api/types.js';
import { LABEL_SERVICE_NAME } from '../controllers/endpointsliceplan.js';

/** TTL of every record we serve, and the SOA minimum (negative-caching TTL). */
export const DEFAULT_TTL = 30;
export const DEFAULT_DOMAIN = 'cluster.local';

/** One address of a Service (from its EndpointSlices). */
export interface EndpointRecord {
  ip: string;
  /** `hostname` of the endpoint, else the dashed IP: the first label of its own DNS name. */
  host: string;
  ports: { name: string; port: number; protocol: string }[];
}

interface ServiceEntry {
  name: string;
  namespace: string;
  /** `''` for headless and ExternalName Services. */
  clusterIP: string;
  headless: boolean;
  externalName?: string;
  ports: { name: string; port: number; protocol: string }[];
  /** Endpoints that may be served: ready ones, or all when publishNotReadyAddresses. */
  endpoints: EndpointRecord[];
}

/** What {@link resolve} reads: built by {@link buildIndex}; read-only. */
export interface DnsIndex {
  domain: string;
  ttl: number;
  /** `ns/name` → Service entry. */
  services: ReadonlyMap<string, ServiceEntry>;
  /** Namespaces that hold at least one Service or Pod. */
  namespaces: ReadonlySet<string>;
  /** `ns/ip` of every pod with an IP. */
  podIPs: ReadonlySet<string>;
  /** IP → the names a PTR query for it answers with. */
  reverse: ReadonlyMap<string, string[]>;
}

export interface IndexOptions {
  domain?: string;
  ttl?: number;
}

export const dashedIP = (ip: string): string => ip.replace(/\./g, '-');

/** Endpoints of a Service that DNS publishes: `ready` (nil means ready), or every one when `publishNotReadyAddresses`. */
function serviceEndpoints(slices: readonly EndpointSlice[], publishNotReady: boolean): EndpointRecord[] {
  const out: EndpointRecord[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const ports = (slice.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP' }));
    for (const ep of slice.endpoints ?? []) {
      if (!publishNotReady && ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        if (!isIPv4(ip) || seen.has(ip)) continue;
        seen.add(ip);
        out.push({ ip, host: ep.hostname || dashedIP(ip), ports });
      }
    }
  }
  return out;
}

/** Builds the index {@link resolve} answers from. Objects are not kept or modified. */
export function buildIndex(objs: { services: readonly Service[]; slices: readonly EndpointSlice[]; pods: readonly Pod[] }, o: IndexOptions = {}): DnsIndex {
  const domain = (o.domain ?? DEFAULT_DOMAIN).toLowerCase().replace(/\.$/, '');
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of objs.slices) {
    const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = slicesBySvc.get(key) ?? [];
    list.push(s);
    slicesBySvc.set(key, list);
  }
  const services = new Map<string, ServiceEntry>();
  const namespaces = new Set<string>();
  const reverse = new Map<string, string[]>();
  const addPtr = (ip: string, name: string) => {
    const names = reverse.get(ip) ?? [];
    if (!names.includes(name)) names.push(name);
    reverse.set(ip, names);
  };
  for (const svc of objs.services) {
    const name = svc.metadata?.name ?? '';
    const namespace = svc.metadata?.namespace ?? '';
    if (!name || !namespace) continue;
    namespaces.add(namespace);
    const spec = svc.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    const ip = spec.clusterIP ?? '';
    const headless = type !== 'ExternalName' && ip === 'None';
    const entry: ServiceEntry = {
      name, namespace, headless,
      clusterIP: type !== 'ExternalName' && isIPv4(ip) ? ip : '',
      ...(type === 'ExternalName' ? { externalName: (spec.externalName ?? '').replace(/\.$/, '') } : {}),
      ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
      endpoints: type === 'ExternalName' ? [] : serviceEndpoints(slicesBySvc.get(`${namespace}/${name}`) ?? [], spec.publishNotReadyAddresses === true),
    };
    services.set(`${namespace}/${name}`, entry);
    const fqdn = `${name}.${namespace}.svc.${domain}`;
    if (entry.clusterIP) addPtr(entry.clusterIP, fqdn);
    if (headless) for (const ep of entry.endpoints) addPtr(ep.ip, `${ep.host}.${fqdn}`);
  }
  const podIPs = new Set<string>();
  for (const p of objs.pods) {
    const ns = p.metadata?.namespace ?? '';
    if (!ns) continue;
    namespaces.add(ns);
    const ips = [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)].filter((x): x is string => !!x);
    for (const ip of ips) podIPs.add(`${ns}/${ip}`);
  }
  return { domain, ttl: o.ttl ?? DEFAULT_TTL, services, namespaces, podIPs, reverse };
}

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'NOTIMP' | 'REFUSED' | 'FORMERR';

/** The answer to one question, or `forward` when the name is not the cluster's. */
export type Resolution =
  | { kind: 'answer'; rcode: Rcode; answers: Answer[]; authorities: Answer[]; additionals: Answer[] }
  | { kind: 'forward' };

/** The zone's SOA, as CoreDNS writes it (minimum = TTL). */
export function soaRecord(index: DnsIndex): Answer {
  return {
    type: 'SOA', name: index.domain, ttl: index.ttl, class: 'IN',
    data: { mname: `ns.dns.${index.domain}`, rname: `hostmaster.${index.domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: index.ttl },
  };
}

const answer = (rcode: Rcode, answers: Answer[] = [], additionals: Answer[] = [], authorities: Answer[] = []): Resolution =>
  ({ kind: 'answer', rcode, answers, authorities, additionals });

/** `d.c.b.a.in-addr.arpa` → `a.b.c.d`, or undefined. */
function reverseIP(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = [m[4], m[3], m[2], m[1]].join('.');
  return isIPv4(ip) ? ip : undefined;
}

/** A record set of `type` for `name`, built by `make` for each item. */
function rr(type: 'A', name: string, ttl: number, ips: string[]): Answer[] {
  return ips.map((ip) => ({ type, name, ttl, class: 'IN', data: ip }));
}

/**
 * Answers one question from the index. `qname` may carry any case and a trailing dot; answer
 * names echo the question's spelling as CoreDNS does. Never throws.
 */
export function resolve(index: DnsIndex, q: Question, depth = 0): Resolution {
  const qname = q.name.replace(/\.$/, '');
  const name = qname.toLowerCase();
  const qtype: string = q.type;
  const ttl = index.ttl;
  const zone = index.domain;
  if ((q.class ?? 'IN') !== 'IN') return answer('NOTIMP');

  const ptrIP = reverseIP(name);
  if (ptrIP) {
    const names = index.reverse.get(ptrIP);
    if (!names) return { kind: 'forward' };
    if (qtype !== 'PTR' && qtype !== 'ANY') return answer('NOERROR', [], [], [soaRecord(index)]);
    return answer('NOERROR', names.map((n) => ({ type: 'PTR', name: qname, ttl, class: 'IN', data: n })));
  }
  if (name !== zone && !name.endsWith(`.${zone}`)) return { kind: 'forward' };

  const nodata = () => answer('NOERROR', [], [], [soaRecord(index)]);
  const nxdomain = () => answer('NXDOMAIN', [], [], [soaRecord(index)]);
  const rest = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');

  if (rest.length === 0) {
    if (qtype === 'SOA' || qtype === 'ANY') return answer('NOERROR', [{ ...soaRecord(index), name: qname }]);
    if (qtype === 'NS') {
      return answer('NOERROR', [{ type: 'NS', name: qname, ttl, class: 'IN', data: `ns.dns.${zone}` }]);
    }
    return nodata();
  }
  const kind = rest[rest.length - 1];
  if (kind === 'pod') {
    if (rest.length === 1) return nodata();
    const ns = rest[rest.length - 2];
    if (rest.length === 2) return index.namespaces.has(ns) ? nodata() : nxdomain();
    if (rest.length !== 3) return nxdomain();
    const ip = rest[0].replace(/-/g, '.');
    if (!isIPv4(ip) || !index.podIPs.has(`${ns}/${ip}`)) return nxdomain();
    if (qtype !== 'A' && qtype !== 'ANY') return nodata();
    return answer('NOERROR', rr('A', qname, ttl, [ip]));
  }
  if (kind !== 'svc') return nxdomain();
  if (rest.length === 1) return nodata();
  const ns = rest[rest.length - 2];
  if (rest.length === 2) return index.namespaces.has(ns) ? nodata() : nxdomain();
  const svcName = rest[rest.length - 3];
  const svc = index.services.get(`${ns}/${svcName}`);
  if (!svc) return nxdomain();
  const fqdn = `${svc.name}.${svc.namespace}.svc.${zone}`;
  const labels = rest.slice(0, -3);

  if (labels.length === 0) return serviceAnswer(index, svc, qname, qtype, fqdn, depth);
  if (labels.length === 1) {
    // An endpoint of the Service, by hostname or dashed IP.
    if (svc.externalName !== undefined) return nxdomain();
    const eps = svc.endpoints.filter((e) => e.host === labels[0]);
    if (!eps.length) return nxdomain();
    if (qtype === 'A' || qtype === 'ANY') return answer('NOERROR', rr('A', qname, ttl, eps.map((e) => e.ip)));
    return nodata();
  }
  if (labels.length === 2 && labels[0].startsWith('_') && labels[1].startsWith('_')) {
    const portName = labels[0].slice(1);
    const proto = labels[1].slice(1);
    if (svc.externalName !== undefined) return nxdomain();
    const ports = svc.ports.filter((p) => p.name !== '' && p.name.toLowerCase() === portName && p.protocol.toLowerCase() === proto);
    if (!ports.length) return nxdomain();
    if (qtype !== 'SRV' && qtype !== 'ANY') return nodata();
    return srvAnswer(index, svc, qname, fqdn, ports.map((p) => p.name));
  }
  return nxdomain();
}

/** SRV records for `portNames` of the Service, with the targets' A records as additionals. */
function srvAnswer(index: DnsIndex, svc: ServiceEntry, qname: string, fqdn: string, portNames: string[]): Resolution {
  const ttl = index.ttl;
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  if (!svc.headless) {
    if (!svc.clusterIP) return answer('NOERROR', [], [], [soaRecord(index)]);
    for (const pn of portNames) {
      const p = svc.ports.find((x) => x.name === pn);
      if (p) answers.push({ type: 'SRV', name: qname, ttl, class: 'IN', data: { priority: 0, weight: 100, port: p.port, target: fqdn } });
    }
    additionals.push(...rr('A', fqdn, ttl, [svc.clusterIP]));
    return answer('NOERROR', answers, additionals);
  }
  // Headless: one SRV per endpoint and port, weights split evenly as CoreDNS does.
  const targets: { port: number; target: string; ip: string }[] = [];
  for (const ep of svc.endpoints) {
    for (const pn of portNames) {
      const port = ep.ports.find((x) => x.name === pn)?.port;
      if (port) targets.push({ port, target: `${ep.host}.${fqdn}`, ip: ep.ip });
    }
  }
  if (!targets.length) return answer('NOERROR', [], [], [soaRecord(index)]);
  const weight = Math.floor(100 / targets.length) || 1;
  const seen = new Set<string>();
  for (const t of targets) {
    answers.push({ type: 'SRV', name: qname, ttl, class: 'IN', data: { priority: 0, weight, port: t.port, target: t.target } });
    if (!seen.has(t.target)) additionals.push(...rr('A', t.target, ttl, [t.ip]));
    seen.add(t.target);
  }
  return answer('NOERROR', answers, additionals);
}

/** How many in-cluster ExternalName aliases are followed before the chain is answered as is (a loop guard). */
const MAX_ALIAS_DEPTH = 8;

function serviceAnswer(index: DnsIndex, svc: ServiceEntry, qname: string, qtype: RecordType | string, fqdn: string, depth: number): Resolution {
  const ttl = index.ttl;
  if (svc.externalName !== undefined) {
    const cname: Answer = { type: 'CNAME', name: qname, ttl, class: 'IN', data: svc.externalName };
    if (qtype === 'CNAME' || qtype === 'ANY') return answer('NOERROR', [cname]);
    // Follow the alias inside the cluster domain; outside it, the server may chase it upstream.
    const target = svc.externalName.toLowerCase();
    if ((target === index.domain || target.endsWith(`.${index.domain}`)) && depth < MAX_ALIAS_DEPTH) {
      const inner = resolve(index, { name: svc.externalName, type: qtype as RecordType, class: 'IN' }, depth + 1);
      if (inner.kind === 'answer') return answer(inner.rcode, [cname, ...inner.answers], inner.additionals, inner.authorities);
    }
    return answer('NOERROR', [cname]);
  }
  if (qtype === 'SRV') {
    const named = svc.ports.filter((p) => p.name !== '').map((p) => p.name);
    if (!named.length) return answer('NOERROR', [], [], [soaRecord(index)]);
    return srvAnswer(index, svc, qname, fqdn, named);
  }
  if (qtype !== 'A' && qtype !== 'ANY') return answer('NOERROR', [], [], [soaRecord(index)]);
  const ips = svc.headless ? svc.endpoints.map((e) => e.ip) : svc.clusterIP ? [svc.clusterIP] : [];
  if (!ips.length) return answer('NOERROR', [], [], [soaRecord(index)]);
  return answer('NOERROR', rr('A', qname, ttl, ips));
}
