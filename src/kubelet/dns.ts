/**
 * A pod's name resolution files, as the kubelet makes them (Kubernetes `pkg/kubelet/network/dns`
 * and `kubelet_pods.go`): `/etc/resolv.conf` from the pod's `dnsPolicy` and `dnsConfig`, and
 * `/etc/hosts` with the pod's IP and hostname (and `hostAliases`). Pure functions; the
 * {@link PodFiles} writer at the bottom puts them in the pod's folder for bind mounts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../api/types.js';
import type { Mount } from '../runtime/types.js';

/** Limits the kubelet applies to what it writes (glibc's: 3 nameservers; 32 search paths, 2048 chars). */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_CHARS = 2048;
/** The options ClusterFirst pods get. */
export const DEFAULT_DNS_OPTIONS = ['ndots:5'];

export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

/** The kubelet's DNS settings (`--cluster-dns`, `--cluster-domain`, `--resolv-conf`). */
export interface KubeletDnsSettings {
  /** Cluster DNS server IPs; empty = none configured. */
  clusterDNS: string[];
  clusterDomain: string;
  /** The host's resolver configuration (parsed `--resolv-conf`), or undefined when `--resolv-conf ""`. */
  host?: ResolvConf;
}

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Parses resolv.conf text: nameserver, search/domain and options lines (the last search/domain line wins, as in glibc). */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.servers.push(fields[0]);
    else if (key === 'search' || key === 'domain') out.searches = fields.map((f) => f.replace(/\.$/, '') || '.');
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

/** The host's resolver for `dnsPolicy: Default`: loopback nameservers removed (they do not exist inside a pod's network). */
export function hostResolvConf(text: string): ResolvConf {
  const conf = parseResolvConf(text);
  return { ...conf, servers: conf.servers.filter((s) => !/^127\./.test(s) && s !== '::1') };
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** Options merged by name, later values winning (`ndots:5` + `ndots:2` → `ndots:2`), in first-seen order. */
function mergeOptions(existing: string[], added: readonly { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    m.set(i === -1 ? op : op.slice(0, i), i === -1 ? '' : op.slice(i + 1));
  }
  for (const op of added) m.set(op.name ?? '', op.value ?? '');
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

type DnsType = 'cluster' | 'host' | 'none';

/**
 * The resolv.conf a pod gets, and the events the kubelet records while forming it:
 * `ClusterFirst` (or `ClusterFirstWithHostNet`, or `ClusterFirst` without hostNetwork) → the
 * cluster DNS, searches `<ns>.svc.<domain> svc.<domain> <domain>` then the host's, `ndots:5`;
 * `Default` (and `ClusterFirst` with hostNetwork) → the host's; `None` → only `dnsConfig`.
 * `dnsConfig` nameservers and searches are appended, options merged; the result is cut to the
 * resolver's limits with a `DNSConfigForming` warning. Without a cluster DNS, ClusterFirst
 * falls back to Default with a `MissingClusterDNS` warning.
 */
export function podResolvConf(pod: Pod, s: KubeletDnsSettings): { conf: ResolvConf; events: PodEvent[] } {
  const events: PodEvent[] = [];
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  let type: DnsType = policy === 'None' ? 'none' : policy === 'ClusterFirstWithHostNet' ? 'cluster'
    : policy === 'ClusterFirst' && !pod.spec?.hostNetwork ? 'cluster' : 'host';
  if (type === 'cluster' && s.clusterDNS.length === 0) {
    const fallback = 'Default';
    events.push({
      type: 'Warning', reason: 'MissingClusterDNS',
      message: `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "${fallback}" policy.`,
    });
    type = 'host';
  }
  const host: ResolvConf = s.host ? { servers: [...s.host.servers], searches: [...s.host.searches], options: [...s.host.options] } : { servers: [], searches: [], options: [] };
  let conf: ResolvConf;
  if (type === 'none') conf = { servers: [], searches: [], options: [] };
  // `--resolv-conf ""`: the kubelet points Default pods at the node's own resolver, with no search path.
  else if (type === 'host' && s.host === undefined) conf = { servers: ['127.0.0.1'], searches: ['.'], options: [] };
  else conf = host;
  if (type === 'cluster') {
    const d = s.clusterDomain.replace(/\.$/, '');
    const ns = pod.metadata?.namespace ?? 'default';
    conf = {
      servers: [...s.clusterDNS],
      searches: d ? unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...conf.searches]) : conf.searches,
      options: [...DEFAULT_DNS_OPTIONS],
    };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    conf = {
      servers: unique([...conf.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...conf.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(conf.options, extra.options ?? []),
    };
  }
  if (conf.servers.length > MAX_NAMESERVERS) {
    conf.servers = conf.servers.slice(0, MAX_NAMESERVERS);
    events.push({
      type: 'Warning', reason: 'DNSConfigForming',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${conf.servers.join(' ')}`,
    });
  }
  let searches = conf.searches.filter((x) => x !== '');
  let cut = false;
  if (searches.length > MAX_SEARCH_PATHS) {
    searches = searches.slice(0, MAX_SEARCH_PATHS);
    cut = true;
  }
  while (searches.length && searches.join(' ').length > MAX_SEARCH_CHARS) {
    searches = searches.slice(0, -1);
    cut = true;
  }
  if (cut) {
    events.push({
      type: 'Warning', reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`,
    });
  }
  conf.searches = searches;
  return { conf, events };
}

/** resolv.conf text, in the order container runtimes write it: search, nameservers, options. */
export function formatResolvConf(c: ResolvConf): string {
  let out = '';
  if (c.searches.length) out += `search ${c.searches.join(' ')}\n`;
  for (const s of c.servers) out += `nameserver ${s}\n`;
  if (c.options.length) out += `options ${c.options.join(' ')}\n`;
  return out;
}

/**
 * The pod's hostname and domain (Kubernetes `GeneratePodHostNameAndDomain`): `spec.hostname`
 * or the pod name cut to 63 characters (without a trailing `-` or `.`); the domain is
 * `<subdomain>.<ns>.svc.<clusterDomain>` when `spec.subdomain` is set. With
 * `setHostnameAsFQDN` the hostname is the FQDN, which must fit in 64 characters.
 */
export function podHostname(pod: Pod, clusterDomain: string): { hostname: string; domain: string; error?: string } {
  let hostname = pod.spec?.hostname || (pod.metadata?.name ?? '');
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const d = clusterDomain.replace(/\.$/, '');
  const domain = pod.spec?.subdomain && d ? `${pod.spec.subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${d}` : '';
  if (pod.spec?.setHostnameAsFQDN && domain) {
    const fqdn = `${hostname}.${domain}`;
    if (fqdn.length > 64) {
      return { hostname, domain, error: `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)` };
    }
    return { hostname: fqdn, domain };
  }
  return { hostname, domain };
}

function hostAliasLines(pod: Pod): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (!aliases.length) return '';
  return '\n# Entries added by HostAliases.\n' + aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('');
}

/**
 * `/etc/hosts` of a pod (Kubernetes `managedHostsFileContent`): localhost lines, then the pod's
 * IPs with its hostname (`<ip>\t<hostname>.<domain>\t<hostname>` when it has a subdomain), then
 * `hostAliases`. A hostNetwork pod gets the node's hosts file plus its aliases instead.
 */
export function podHostsFile(pod: Pod, podIPs: string[], clusterDomain: string, nodeHosts?: string): string {
  if (pod.spec?.hostNetwork) return (nodeHosts ?? '') + hostAliasLines(pod);
  const { hostname, domain } = podHostname({ ...pod, spec: pod.spec && { ...pod.spec, setHostnameAsFQDN: false } }, clusterDomain);
  let out = '# Kubernetes-managed hosts file.\n' +
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\n' +
    'fe00::1\tip6-allnodes\n' +
    'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasLines(pod);
}

/**
 * Writes a pod's `etc-hosts` and `resolv.conf` under `<rootDir>/pods/<uid>/` (as the kubelet
 * keeps `etc-hosts` in its pod folder) and gives the bind mounts every container of the pod
 * shares. Files are rewritten only when their content changes; `remove` deletes the folder.
 */
export class PodFiles {
  constructor(private readonly rootDir: string) {}

  dir(uid: string): string {
    return join(this.rootDir, 'pods', uid);
  }

  /** Writes both files (idempotent) and returns their paths. */
  write(uid: string, hosts: string, resolvConf: string): { hosts: string; resolvConf: string } {
    const dir = this.dir(uid);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const files = { hosts: join(dir, 'etc-hosts'), resolvConf: join(dir, 'resolv.conf') };
    const put = (path: string, content: string) => {
      if (!existsSync(path) || readFileSync(path, 'utf8') !== content) writeFileSync(path, content, { mode: 0o644 });
    };
    put(files.hosts, hosts);
    put(files.resolvConf, resolvConf);
    return files;
  }

  remove(uid: string): void {
    rmSync(this.dir(uid), { recursive: true, force: true });
  }
}

/** The bind mounts of a pod's files for one container, leaving out a path the container mounts itself. */
export function podFileMounts(files: { hosts: string; resolvConf: string }, own: readonly Mount[]): Mount[] {
  const taken = new Set(own.map((m) => m.target.replace(/\/+$/, '')));
  const out: Mount[] = [];
  if (!taken.has('/etc/hosts')) out.push({ source: files.hosts, target: '/etc/hosts', readOnly: false, volume: false });
  if (!taken.has('/etc/resolv.conf')) out.push({ source: files.resolvConf, target: '/etc/resolv.conf', readOnly: false, volume: false });
  return out;
}
