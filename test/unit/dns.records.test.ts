/**
 * Cluster DNS record resolution (src/dns/records.ts): one table of questions against one
 * cluster of Services, EndpointSlices and Pods, with the RCODE and records CoreDNS gives.
 */
import { describe, expect, it } from 'vitest';
import type { Answer, RecordType } from 'dns-packet';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from '../../src/api/types.js';
import { buildIndex, resolve, type Resolution } from '../../src/dns/records.js';

const svc = (name: string, spec: Service['spec'], namespace = 'default'): Service => ({ metadata: { name, namespace }, spec });
const slice = (service: string, endpoints: { ip: string; ready?: boolean; hostname?: string }[], ports: { name?: string; port: number; protocol?: string }[], namespace = 'default'): EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { name: `${service}-abc`, namespace, labels: { 'kubernetes.io/service-name': service } },
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.hostname ? { hostname: e.hostname } : {}), conditions: e.ready === undefined ? {} : { ready: e.ready } })),
  ports,
});
const pod = (name: string, ip: string, namespace = 'default'): Pod => ({ metadata: { name, namespace }, status: { podIP: ip } });

const index = buildIndex({
  services: [
    svc('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
    svc('myapp', { clusterIP: '10.96.4.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('plain', { clusterIP: '10.96.4.8', ports: [{ port: 8080 }] }),
    svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
    svc('lonely', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }),
    svc('notready', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'x', port: 1 }] }),
    svc('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
    svc('alias', { type: 'ExternalName', externalName: 'myapp.default.svc.cluster.local' }),
    svc('api', { clusterIP: '10.96.9.9', ports: [{ name: 'grpc', port: 9000 }] }, 'team-a'),
  ],
  slices: [
    slice('db', [{ ip: '10.244.1.5', hostname: 'db-0' }, { ip: '10.244.2.6', hostname: 'db-1' }, { ip: '10.244.2.9', ready: false }, { ip: '10.244.1.8' }], [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
    slice('notready', [{ ip: '10.244.1.20', ready: false }], [{ name: 'x', port: 1, protocol: 'TCP' }]),
    slice('myapp', [{ ip: '10.244.1.30' }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
  ],
  pods: [pod('web', '10.244.1.30'), pod('other', '10.244.2.40', 'team-a')],
});

const data = (r: Resolution, section: 'answers' | 'additionals' = 'answers') =>
  r.kind === 'answer' ? r[section].map((a: Answer) => `${a.type} ${a.name} ${typeof (a as { data?: unknown }).data === 'object' ? JSON.stringify((a as { data: unknown }).data) : String((a as { data?: unknown }).data)}`) : [];

interface Case {
  name: string;
  q: string;
  type: RecordType | 'ANY';
  rcode?: string;
  forward?: true;
  answers?: string[];
  additionals?: string[];
}

const cases: Case[] = [
  { name: 'a ClusterIP Service answers its ClusterIP', q: 'myapp.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A myapp.default.svc.cluster.local 10.96.4.7'] },
  { name: 'names are case-insensitive and may end with a dot; the answer echoes the question', q: 'MyApp.Default.SVC.cluster.local.', type: 'A', rcode: 'NOERROR', answers: ['A MyApp.Default.SVC.cluster.local 10.96.4.7'] },
  { name: 'the kubernetes Service resolves in default', q: 'kubernetes.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A kubernetes.default.svc.cluster.local 10.96.0.1'] },
  { name: 'a Service in another namespace resolves there only', q: 'api.team-a.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A api.team-a.svc.cluster.local 10.96.9.9'] },
  { name: 'a missing Service is NXDOMAIN', q: 'nope.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'a Service in the wrong namespace is NXDOMAIN', q: 'api.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'AAAA of an IPv4 Service is NOERROR with no records (NODATA)', q: 'myapp.default.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: [] },
  { name: 'a headless Service answers its ready endpoint IPs only', q: 'db.default.svc.cluster.local', type: 'A', rcode: 'NOERROR',
    answers: ['A db.default.svc.cluster.local 10.244.1.5', 'A db.default.svc.cluster.local 10.244.2.6', 'A db.default.svc.cluster.local 10.244.1.8'] },
  { name: 'a headless Service with no ready endpoints has no records (NODATA)', q: 'lonely.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { name: 'publishNotReadyAddresses publishes unready endpoints', q: 'notready.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A notready.default.svc.cluster.local 10.244.1.20'] },
  { name: 'an endpoint hostname (StatefulSet pod) resolves under its headless Service', q: 'db-1.db.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A db-1.db.default.svc.cluster.local 10.244.2.6'] },
  { name: 'an endpoint without hostname resolves by its dashed IP', q: '10-244-1-8.db.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A 10-244-1-8.db.default.svc.cluster.local 10.244.1.8'] },
  { name: 'an unknown endpoint hostname is NXDOMAIN', q: 'db-7.db.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'SRV of a named port of a ClusterIP Service targets the Service name', q: '_http._tcp.myapp.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR',
    answers: ['SRV _http._tcp.myapp.default.svc.cluster.local {"priority":0,"weight":100,"port":80,"target":"myapp.default.svc.cluster.local"}'],
    additionals: ['A myapp.default.svc.cluster.local 10.96.4.7'] },
  { name: 'SRV matches the protocol too', q: '_dns._udp.myapp.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR',
    answers: ['SRV _dns._udp.myapp.default.svc.cluster.local {"priority":0,"weight":100,"port":53,"target":"myapp.default.svc.cluster.local"}'] },
  { name: 'SRV with the wrong protocol is NXDOMAIN', q: '_http._udp.myapp.default.svc.cluster.local', type: 'SRV', rcode: 'NXDOMAIN', answers: [] },
  { name: 'SRV of a headless Service lists each ready endpoint with the endpoint port', q: '_pg._tcp.db.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR',
    answers: [
      'SRV _pg._tcp.db.default.svc.cluster.local {"priority":0,"weight":33,"port":5432,"target":"db-0.db.default.svc.cluster.local"}',
      'SRV _pg._tcp.db.default.svc.cluster.local {"priority":0,"weight":33,"port":5432,"target":"db-1.db.default.svc.cluster.local"}',
      'SRV _pg._tcp.db.default.svc.cluster.local {"priority":0,"weight":33,"port":5432,"target":"10-244-1-8.db.default.svc.cluster.local"}',
    ],
    additionals: ['A db-0.db.default.svc.cluster.local 10.244.1.5', 'A db-1.db.default.svc.cluster.local 10.244.2.6', 'A 10-244-1-8.db.default.svc.cluster.local 10.244.1.8'] },
  { name: 'SRV of the bare Service name lists every named port', q: 'myapp.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR',
    answers: [
      'SRV myapp.default.svc.cluster.local {"priority":0,"weight":100,"port":80,"target":"myapp.default.svc.cluster.local"}',
      'SRV myapp.default.svc.cluster.local {"priority":0,"weight":100,"port":53,"target":"myapp.default.svc.cluster.local"}',
    ] },
  { name: 'an unnamed port has no SRV record', q: 'plain.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR', answers: [] },
  { name: 'A on an SRV name has no records (NODATA)', q: '_http._tcp.myapp.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { name: 'an ExternalName Service answers a CNAME', q: 'ext.default.svc.cluster.local', type: 'CNAME', rcode: 'NOERROR', answers: ['CNAME ext.default.svc.cluster.local db.example.com'] },
  { name: 'A of an ExternalName Service answers the CNAME (the server chases it upstream)', q: 'ext.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['CNAME ext.default.svc.cluster.local db.example.com'] },
  { name: 'an ExternalName pointing into the cluster is followed', q: 'alias.default.svc.cluster.local', type: 'A', rcode: 'NOERROR',
    answers: ['CNAME alias.default.svc.cluster.local myapp.default.svc.cluster.local', 'A myapp.default.svc.cluster.local 10.96.4.7'] },
  { name: 'a pod A record resolves when a pod of that namespace has the IP', q: '10-244-1-30.default.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A 10-244-1-30.default.pod.cluster.local 10.244.1.30'] },
  { name: 'a pod A record in the wrong namespace is NXDOMAIN', q: '10-244-2-40.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'a malformed pod name is NXDOMAIN', q: '10-244-1.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'PTR of a ClusterIP names the Service', q: '7.4.96.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['PTR 7.4.96.10.in-addr.arpa myapp.default.svc.cluster.local'] },
  { name: 'PTR of a headless endpoint names the endpoint', q: '6.2.244.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['PTR 6.2.244.10.in-addr.arpa db-1.db.default.svc.cluster.local'] },
  { name: 'PTR of an address that is not the cluster\'s is not ours', q: '8.8.8.8.in-addr.arpa', type: 'PTR', forward: true },
  { name: 'an existing namespace name has no records (NODATA)', q: 'team-a.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { name: 'an unknown namespace is NXDOMAIN', q: 'nowhere.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'an unknown subtree of the domain is NXDOMAIN', q: 'foo.bar.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { name: 'the zone apex answers its SOA', q: 'cluster.local', type: 'SOA', rcode: 'NOERROR',
    answers: ['SOA cluster.local {"mname":"ns.dns.cluster.local","rname":"hostmaster.cluster.local","serial":1,"refresh":7200,"retry":1800,"expire":86400,"minimum":30}'] },
  { name: 'a name outside the cluster domain is forwarded (or NXDOMAIN without an upstream)', q: 'example.com', type: 'A', forward: true },
  { name: 'a search-list expansion of an outside name stays ours and is NXDOMAIN', q: 'example.com.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
];

describe('cluster DNS records', () => {
  it.each(cases)('$name', (c) => {
    const r = resolve(index, { name: c.q, type: c.type as RecordType, class: 'IN' });
    if (c.forward) {
      expect(r.kind).toBe('forward');
      return;
    }
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.rcode).toBe(c.rcode);
    expect(data(r)).toEqual(c.answers);
    if (c.additionals) expect(data(r, 'additionals')).toEqual(c.additionals);
    // Negative answers (and NODATA) carry the zone's SOA for negative caching.
    if (r.rcode === 'NXDOMAIN' || r.answers.length === 0) expect(r.authorities.map((a) => a.type)).toEqual(['SOA']);
    for (const a of [...r.answers, ...r.additionals]) expect((a as { ttl?: number }).ttl).toBe(30);
  });

  it('uses another cluster domain and TTL when told', () => {
    const other = buildIndex({ services: [svc('web', { clusterIP: '10.100.0.5', ports: [{ port: 80 }] })], slices: [], pods: [] }, { domain: 'corp.internal', ttl: 5 });
    const r = resolve(other, { name: 'web.default.svc.corp.internal', type: 'A' });
    expect(data(r)).toEqual(['A web.default.svc.corp.internal 10.100.0.5']);
    expect(r.kind === 'answer' && (r.answers[0] as { ttl?: number }).ttl).toBe(5);
    expect(resolve(other, { name: 'web.default.svc.cluster.local', type: 'A' }).kind).toBe('forward');
  });
});
