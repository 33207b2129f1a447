/**
 * The kubelet's per-pod name resolution (src/kubelet/dns.ts): resolv.conf from dnsPolicy and
 * dnsConfig, /etc/hosts, the pod hostname; and the Service environment variables
 * (src/kubelet/envvars.ts). Tables of pods against Kubernetes' output.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, PodSpec, Service } from '../../src/api/types.js';
import {
  formatResolvConf, hostResolvConf, parseResolvConf, PodFiles, podFileMounts, podHostname, podHostsFile, podResolvConf, type KubeletDnsSettings,
} from '../../src/kubelet/dns.js';
import { fromServices, serviceEnvFor } from '../../src/kubelet/envvars.js';
import { containerEnv } from '../../src/api/expansion.js';

const pod = (spec: Partial<PodSpec> = {}, name = 'web', namespace = 'default'): Pod =>
  ({ metadata: { name, namespace, uid: 'u1' }, spec: { containers: [{ name: 'c' }], ...spec } });

const host = hostResolvConf('# host\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nsearch corp.example.\noptions edns0 ndots:1\n');
const kubelet: KubeletDnsSettings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host };

interface ResolvCase {
  name: string;
  pod: Pod;
  settings?: KubeletDnsSettings;
  want: string;
  events?: string[];
}

const resolvCases: ResolvCase[] = [
  { name: 'ClusterFirst (the default) uses the cluster DNS, the cluster search path then the host\'s, ndots:5', pod: pod(),
    want: 'search default.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n' },
  { name: 'ClusterFirst searches the pod\'s own namespace first', pod: pod({ dnsPolicy: 'ClusterFirst' }, 'api', 'team-a'),
    want: 'search team-a.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n' },
  { name: 'Default inherits the host\'s resolver without loopback nameservers', pod: pod({ dnsPolicy: 'Default' }),
    want: 'search corp.example\nnameserver 10.255.255.53\noptions edns0 ndots:1\n' },
  { name: 'ClusterFirst on the host network falls back to Default', pod: pod({ dnsPolicy: 'ClusterFirst', hostNetwork: true }),
    want: 'search corp.example\nnameserver 10.255.255.53\noptions edns0 ndots:1\n' },
  { name: 'ClusterFirstWithHostNet uses the cluster DNS on the host network', pod: pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }),
    want: 'search default.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n' },
  { name: 'None takes only dnsConfig', pod: pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['ns1.svc.cluster-domain.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }),
    want: 'search ns1.svc.cluster-domain.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n' },
  { name: 'dnsConfig is merged into ClusterFirst: nameservers and searches appended, options overriding by name',
    pod: pod({ dnsConfig: { nameservers: ['10.0.0.53'], searches: ['my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'single-request-reopen' }] } }),
    want: 'search default.svc.cluster.local svc.cluster.local cluster.local corp.example my.dns.search.suffix\nnameserver 10.96.0.10\nnameserver 10.0.0.53\noptions ndots:2 single-request-reopen\n' },
  { name: 'duplicate searches and nameservers are dropped', pod: pod({ dnsConfig: { nameservers: ['10.96.0.10'], searches: ['cluster.local'] } }),
    want: 'search default.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n' },
  { name: 'more than three nameservers are cut with a DNSConfigForming warning', pod: pod({ dnsConfig: { nameservers: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] } }),
    want: 'search default.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\nnameserver 10.0.0.1\nnameserver 10.0.0.2\noptions ndots:5\n',
    events: ['Warning DNSConfigForming Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.96.0.10 10.0.0.1 10.0.0.2'] },
  { name: 'more than 32 search paths are cut with a DNSConfigForming warning', pod: pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: Array.from({ length: 33 }, (_, i) => `s${i}.example`) } }),
    want: `search ${Array.from({ length: 32 }, (_, i) => `s${i}.example`).join(' ')}\nnameserver 1.1.1.1\n`,
    events: [`Warning DNSConfigForming Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${Array.from({ length: 32 }, (_, i) => `s${i}.example`).join(' ')}`] },
  { name: 'without --cluster-dns, ClusterFirst falls back to Default with a MissingClusterDNS warning', pod: pod(), settings: { ...kubelet, clusterDNS: [] },
    want: 'search corp.example\nnameserver 10.255.255.53\noptions edns0 ndots:1\n',
    events: ['Warning MissingClusterDNS pod: "web_default(u1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.'] },
  { name: 'with --resolv-conf "", Default pods get the node\'s own resolver and no search path', pod: pod({ dnsPolicy: 'Default' }), settings: { ...kubelet, host: undefined },
    want: 'search .\nnameserver 127.0.0.1\n' },
  { name: 'with --resolv-conf "", ClusterFirst pods search only the cluster', pod: pod(), settings: { ...kubelet, host: undefined },
    want: 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n' },
];

describe('resolv.conf of a pod', () => {
  it.each(resolvCases)('$name', (c) => {
    const { conf, events } = podResolvConf(c.pod, c.settings ?? kubelet);
    expect(formatResolvConf(conf)).toBe(c.want);
    expect(events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(c.events ?? []);
  });

  it('parses resolv.conf: comments, the last search/domain line, several options lines', () => {
    expect(parseResolvConf('domain a.example\nsearch b.example c.example # comment\n; x\nnameserver 1.1.1.1\noptions ndots:2\noptions rotate\n'))
      .toEqual({ servers: ['1.1.1.1'], searches: ['b.example', 'c.example'], options: ['ndots:2', 'rotate'] });
  });
});

describe('/etc/hosts and hostname of a pod', () => {
  const header = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
  it.each([
    { name: 'a plain pod maps its IP to its name', pod: pod(), want: `${header}10.244.1.5\tweb\n` },
    { name: 'spec.hostname replaces the pod name', pod: pod({ hostname: 'box' }), want: `${header}10.244.1.5\tbox\n` },
    { name: 'hostname + subdomain give the FQDN first', pod: pod({ hostname: 'db-0', subdomain: 'db' }), want: `${header}10.244.1.5\tdb-0.db.default.svc.cluster.local\tdb-0\n` },
    { name: 'hostAliases are appended', pod: pod({ hostAliases: [{ ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] }] }),
      want: `${header}10.244.1.5\tweb\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n` },
    { name: 'a hostNetwork pod gets the node\'s hosts file and its aliases', pod: pod({ hostNetwork: true, hostAliases: [{ ip: '10.1.2.3', hostnames: ['x'] }] }),
      want: '127.0.0.1 localhost node\n\n# Entries added by HostAliases.\n10.1.2.3\tx\n' },
  ])('$name', (c) => {
    expect(podHostsFile(c.pod, ['10.244.1.5'], 'cluster.local', '127.0.0.1 localhost node\n')).toBe(c.want);
  });

  it.each([
    { name: 'the pod name', pod: pod(), want: { hostname: 'web', domain: '' } },
    { name: 'a long pod name cut to 63 characters without a trailing dash', pod: pod({}, `${'a'.repeat(62)}-b`), want: { hostname: 'a'.repeat(62), domain: '' } },
    { name: 'setHostnameAsFQDN gives the FQDN', pod: pod({ hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true }), want: { hostname: 'db-0.db.default.svc.cluster.local', domain: 'db.default.svc.cluster.local' } },
  ])('hostname: $name', (c) => {
    expect(podHostname(c.pod, 'cluster.local')).toEqual(c.want);
  });

  it('refuses an FQDN longer than 64 characters', () => {
    const r = podHostname(pod({ hostname: 'h'.repeat(40), subdomain: 's'.repeat(20), setHostnameAsFQDN: true }), 'cluster.local');
    expect(r.error).toMatch(/^failed to construct FQDN from pod hostname and cluster domain, FQDN h+\.s+\.default\.svc\.cluster\.local is too long \(64 characters is the max, 87 characters requested\)$/);
  });

  it('writes both files in the pod folder, bind-mounted unless the container mounts the path itself', () => {
    const root = mkdtempSync(join(tmpdir(), 'mkl-podfiles-'));
    try {
      const files = new PodFiles(root).write('uid-1', 'hosts\n', 'nameserver 10.96.0.10\n');
      expect(readFileSync(files.hosts, 'utf8')).toBe('hosts\n');
      expect(readFileSync(files.resolvConf, 'utf8')).toBe('nameserver 10.96.0.10\n');
      expect(podFileMounts(files, []).map((m) => m.target)).toEqual(['/etc/hosts', '/etc/resolv.conf']);
      expect(podFileMounts(files, [{ source: 'v', target: '/etc/hosts', readOnly: true, volume: true }]).map((m) => m.target)).toEqual(['/etc/resolv.conf']);
      new PodFiles(root).remove('uid-1');
      expect(existsSync(files.hosts)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

const service = (name: string, namespace: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[]): Service =>
  ({ metadata: { name, namespace }, spec: { clusterIP, ports: ports.map((p) => ({ ...p })) } });

describe('Service environment variables', () => {
  const kubernetes = service('kubernetes', 'default', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);
  const services = [
    kubernetes,
    service('redis-primary', 'default', '10.96.5.5', [{ port: 6379 }]),
    service('multi', 'default', '10.96.5.6', [{ name: 'http', port: 80 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }]),
    service('headless', 'default', 'None', [{ port: 80 }]),
    service('api', 'team-a', '10.96.9.9', [{ port: 9000 }]),
  ];

  it('names the variables as Kubernetes does (the kubernetes Service: the documentation\'s KUBERNETES_PORT)', () => {
    expect(fromServices([kubernetes])).toEqual([
      { name: 'KUBERNETES_SERVICE_HOST', value: '10.96.0.1' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '443' },
      { name: 'KUBERNETES_SERVICE_PORT_HTTPS', value: '443' },
      { name: 'KUBERNETES_PORT', value: 'tcp://10.96.0.1:443' },
      { name: 'KUBERNETES_PORT_443_TCP', value: 'tcp://10.96.0.1:443' },
      { name: 'KUBERNETES_PORT_443_TCP_PROTO', value: 'tcp' },
      { name: 'KUBERNETES_PORT_443_TCP_PORT', value: '443' },
      { name: 'KUBERNETES_PORT_443_TCP_ADDR', value: '10.96.0.1' },
    ]);
  });

  it.each([
    { name: 'a pod in default sees every Service with a ClusterIP there (dashes become underscores; headless ones are left out)', ns: 'default', links: undefined,
      has: ['KUBERNETES_SERVICE_HOST', 'REDIS_PRIMARY_SERVICE_HOST', 'REDIS_PRIMARY_PORT_6379_TCP_ADDR', 'MULTI_SERVICE_PORT_HTTP', 'MULTI_SERVICE_PORT_DNS_UDP', 'MULTI_PORT_53_UDP_PROTO'],
      not: ['HEADLESS_SERVICE_HOST', 'API_SERVICE_HOST'] },
    { name: 'a pod in another namespace sees its namespace\'s Services and the kubernetes Service', ns: 'team-a', links: undefined,
      has: ['API_SERVICE_HOST', 'KUBERNETES_SERVICE_HOST'], not: ['REDIS_PRIMARY_SERVICE_HOST'] },
    { name: 'enableServiceLinks: false leaves only the kubernetes Service', ns: 'default', links: false,
      has: ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_PORT'], not: ['REDIS_PRIMARY_SERVICE_HOST', 'MULTI_SERVICE_HOST'] },
  ])('$name', (c) => {
    const env = serviceEnvFor(services, c.ns, c.links);
    for (const k of c.has) expect(env).toHaveProperty(k);
    for (const k of c.not) expect(env).not.toHaveProperty(k);
  });

  it('service variables expand in $(VAR) references, come after declared ones and never override them', () => {
    const serviceEnv = serviceEnvFor(services, 'default', true);
    const env = containerEnv({ name: 'c', env: [{ name: 'URL', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/' }, { name: 'REDIS_PRIMARY_SERVICE_HOST', value: 'mine' }] }, { serviceEnv });
    expect(env[0]).toEqual({ name: 'URL', value: 'https://10.96.0.1:443/' });
    expect(env[1]).toEqual({ name: 'REDIS_PRIMARY_SERVICE_HOST', value: 'mine' });
    expect(env.filter((e) => e.name === 'REDIS_PRIMARY_SERVICE_HOST')).toHaveLength(1);
    expect(env.find((e) => e.name === 'KUBERNETES_PORT')?.value).toBe('tcp://10.96.0.1:443');
  });
});
