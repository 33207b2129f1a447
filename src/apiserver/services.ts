/**
 * What the API server does for Services beyond storing them (Kubernetes'
 * `pkg/registry/core/service/storage/alloc.go` and the `kubernetes` Service reconciler):
 *
 * - ipFamilies / ipFamilyPolicy on create (this cluster is single-stack IPv4);
 * - ClusterIP allocation from the service CIDR (`--service-cidr`, default 10.96.0.0/16): a
 *   requested IP is checked for range and conflicts (422 with `spec.clusterIPs`), else a free
 *   one is picked; the 1st address is kept for `default/kubernetes` and the 10th for
 *   `kube-system/kube-dns`;
 * - NodePort (and health-check node port) allocation from 30000-32767;
 * - releasing all of these when a Service is deleted or changes type.
 *
 * The allocation state lives in memory, rebuilt from the stored Services when the API server
 * starts ({@link ServiceAllocations.restore}), so it survives restarts because the Services do.
 * Every allocation is synchronous (see `rangealloc.ts`), so concurrent creates never get the same
 * address. Allocations are made eagerly and undone by `revert`; releases wait for `commit`, so a
 * failed write changes nothing.
 */
import { ApiError, invalid, invalidFormatted, invalidValue, type FieldError } from '../api/errors.js';
import { goStringSlice } from '../api/gofmt.js';
import { formatIPv4, ipFamilyOf, parseIPv4, parseIPv4CIDR, type IPv4Net } from '../api/ip.js';
import { allocatesNodePorts, needsClusterIP, needsHealthCheckNodePort, needsNodePort } from '../api/servicestrategy.js';
import type { KubeObject, Service, ServicePort } from '../api/types.js';
import { ipStaticBand, portStaticBand, RangeAllocator } from './rangealloc.js';
import type { ResourceDef } from '../api/resource.js';
import type { RestStorage, StorageHooks, Transaction } from './rest.js';

/** Kubernetes' default service CIDR and node-port range. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

/** The Services whose addresses are fixed: the API server's own and cluster DNS. */
export const KUBERNETES_SERVICE = { namespace: 'default', name: 'kubernetes' };
export const DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' };

export interface ServiceNetworkOptions {
  /** IPv4 CIDR ClusterIPs come from, e.g. `10.96.0.0/16`. */
  serviceCIDR?: string;
  /** `30000-32767`. */
  nodePortRange?: string;
  /** `random(n)` → integer in [0, n); injectable for tests. */
  random?: (n: number) => number;
}

const ownerOf = (svc: KubeObject): string => `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
const specOf = (svc: Service): NonNullable<Service['spec']> => ((svc as { spec?: Service['spec'] }).spec ??= {});

/** One request's allocations: undone by `revert`, releases carried out by `commit`. */
class Txn implements Transaction {
  private readonly taken: (() => void)[] = [];
  private readonly releases: (() => void)[] = [];
  private done = false;

  took(undo: () => void): void {
    this.taken.push(undo);
  }

  onCommit(release: () => void): void {
    this.releases.push(release);
  }

  commit(): void {
    if (this.done) return;
    this.done = true;
    for (const r of this.releases) r();
  }

  revert(): void {
    if (this.done) return;
    this.done = true;
    for (const u of this.taken.reverse()) u();
  }
}

function parseRange(range: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(range.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!(lo >= 1 && hi <= 65535 && lo <= hi)) throw new Error(`invalid node port range "${range}": expected LOW-HIGH within 1-65535`);
  return [lo, hi];
}

/** The 422 Kubernetes answers for a requested ClusterIP it cannot give. */
function clusterIPError(svc: Service, ip: string, why: string): ApiError {
  const errs: FieldError[] = [invalidFormatted('spec.clusterIPs', goStringSlice(svc.spec?.clusterIPs ?? [ip]), `failed to allocate IP ${ip}: ${why}`)];
  return invalid('Service', svc.metadata?.name ?? '', errs);
}

const internalError = (message: string): ApiError => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);

export class ServiceAllocations implements StorageHooks {
  readonly net: IPv4Net;
  readonly nodePortRange: string;
  private readonly ips: RangeAllocator;
  private readonly ports: RangeAllocator;
  /** Addresses kept for one Service each: number → `namespace/name`. */
  private readonly reserved = new Map<number, string>();

  constructor(opts: ServiceNetworkOptions = {}) {
    this.net = parseIPv4CIDR(opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR);
    if (this.net.prefix > 28) throw new Error(`service CIDR ${this.net.text} is too small: use a /28 or larger`);
    this.nodePortRange = opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
    const [lo, hi] = parseRange(this.nodePortRange);
    // The network and broadcast addresses are never handed out.
    const first = this.net.base + 1;
    const last = this.net.base + this.net.size - 2;
    this.ips = new RangeAllocator(first, last, ipStaticBand(this.net.size), opts.random);
    this.ports = new RangeAllocator(lo, hi, portStaticBand(hi - lo + 1), opts.random);
    this.reserved.set(this.net.base + 1, `${KUBERNETES_SERVICE.namespace}/${KUBERNETES_SERVICE.name}`);
    this.reserved.set(this.net.base + 10, `${DNS_SERVICE.namespace}/${DNS_SERVICE.name}`);
  }

  /** The `kubernetes` Service's address: the first of the range (10.96.0.1). */
  get kubernetesIP(): string {
    return formatIPv4(this.net.base + 1);
  }

  /** Cluster DNS's address: the 10th of the range (10.96.0.10). */
  get dnsIP(): string {
    return formatIPv4(this.net.base + 10);
  }

  /** How many ClusterIPs and node ports are taken (for tests and logs). */
  usage(): { clusterIPs: number; nodePorts: number } {
    return { clusterIPs: this.ips.used, nodePorts: this.ports.used };
  }

  /**
   * Marks what the stored Services hold as taken (at start-up). Returns a line per value two
   * Services claim or that lies outside today's ranges (the first claimant keeps it).
   */
  restore(services: readonly KubeObject[]): string[] {
    const problems: string[] = [];
    for (const obj of services) {
      const svc = obj as Service;
      const owner = ownerOf(svc);
      for (const ip of svc.spec?.clusterIPs ?? []) {
        const n = parseIPv4(ip);
        if (n === undefined) continue;
        const r = this.ips.allocate(n, owner);
        if (r !== 'ok') problems.push(`Service ${owner}: clusterIP ${ip} ${r === 'allocated' ? `is also held by ${this.ips.ownerOf(n)}` : `is outside the service CIDR ${this.net.text}`}`);
      }
      for (const port of this.nodePortsOf(svc)) {
        const r = this.ports.allocate(port, owner);
        if (r !== 'ok') problems.push(`Service ${owner}: node port ${port} ${r === 'allocated' ? `is also held by ${this.ports.ownerOf(port)}` : `is outside ${this.nodePortRange}`}`);
      }
    }
    return problems;
  }

  beginCreate(obj: KubeObject): Transaction {
    const svc = obj as Service;
    const txn = new Txn();
    try {
      this.initIPFamilyFields(svc);
      if (needsClusterIP(svc)) this.allocClusterIP(svc, txn);
      this.allocNodePorts(svc, new Set(), txn);
    } catch (e) {
      txn.revert();
      throw e;
    }
    return txn;
  }

  beginUpdate(obj: KubeObject, oldObj: KubeObject): Transaction {
    const svc = obj as Service;
    const old = oldObj as Service;
    const owner = ownerOf(svc);
    const txn = new Txn();
    // Status updates (and no-op writes) leave the spec alone: nothing to allocate or release.
    if (JSON.stringify(svc.spec ?? {}) === JSON.stringify(old.spec ?? {})) return txn;
    try {
      this.initIPFamilyFields(svc);
      if (needsClusterIP(old) && !needsClusterIP(svc)) {
        for (const ip of old.spec?.clusterIPs ?? []) this.releaseIPOnCommit(ip, owner, txn);
      } else if (!needsClusterIP(old) && needsClusterIP(svc)) {
        this.allocClusterIP(svc, txn);
      }
      const before = new Set(this.nodePortsOf(old));
      this.allocNodePorts(svc, before, txn);
      const after = new Set(this.nodePortsOf(svc));
      for (const port of before) {
        if (!after.has(port)) txn.onCommit(() => this.ports.release(port, owner));
      }
    } catch (e) {
      txn.revert();
      throw e;
    }
    return txn;
  }

  afterDelete(obj: KubeObject): void {
    const svc = obj as Service;
    const owner = ownerOf(svc);
    for (const ip of svc.spec?.clusterIPs ?? []) {
      const n = parseIPv4(ip);
      if (n !== undefined) this.ips.release(n, owner);
    }
    for (const port of this.nodePortsOf(svc)) this.ports.release(port, owner);
  }

  // -------------------------------------------------------------------------------------------

  /** Node ports a Service holds: its ports' and its health check's. */
  private nodePortsOf(svc: Service): number[] {
    const out = (svc.spec?.ports ?? []).map((p) => p.nodePort ?? 0);
    out.push(svc.spec?.healthCheckNodePort ?? 0);
    return [...new Set(out.filter((p) => p > 0))];
  }

  private releaseIPOnCommit(ip: string, owner: string, txn: Txn): void {
    const n = parseIPv4(ip);
    if (n !== undefined) txn.onCommit(() => this.ips.release(n, owner));
  }

  /** `initIPFamilyFields` for a single-stack IPv4 cluster. */
  private initIPFamilyFields(svc: Service): void {
    const spec = specOf(svc);
    if (spec.type === 'ExternalName') return;
    const ips = spec.clusterIPs ?? [];
    const headlessNoSelector = spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0;
    if (spec.ipFamilyPolicy === undefined) {
      const dual = ips.length >= 2 || (spec.ipFamilies ?? []).length >= 2 || headlessNoSelector;
      spec.ipFamilyPolicy = dual ? 'RequireDualStack' : 'SingleStack';
    }
    const errs: FieldError[] = [];
    const families = [...(spec.ipFamilies ?? [])];
    ips.forEach((ip, i) => {
      if (ip === 'None' || i < families.length) return;
      const fam = ipFamilyOf(ip);
      if (fam === 'IPv4') families.push(fam);
      else if (fam) errs.push(invalidFormatted(`spec.clusterIPs[${i}]`, goStringSlice(ips), `${fam} is not configured on this cluster`));
    });
    if (errs.length) throw invalid('Service', svc.metadata?.name ?? '', errs);
    if (headlessNoSelector) {
      if (families.length === 0) families.push('IPv4');
      if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
      spec.ipFamilies = families;
      return;
    }
    if (spec.ipFamilyPolicy === 'RequireDualStack') {
      errs.push(invalidValue('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
    }
    families.forEach((f, i) => {
      if (f !== 'IPv4') errs.push(invalidValue(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
    });
    if (errs.length) throw invalid('Service', svc.metadata?.name ?? '', errs);
    spec.ipFamilies = families.length ? families : ['IPv4'];
  }

  /** Gives a Service that needs one its ClusterIP: the requested one, checked, or a free one. */
  private allocClusterIP(svc: Service, txn: Txn): void {
    const spec = specOf(svc);
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
      return;
    }
    const owner = ownerOf(svc);
    let ip = spec.clusterIPs?.[0] ?? spec.clusterIP ?? '';
    if (!ip) {
      // The two well-known Services get their well-known addresses when they ask for none.
      const mine = [...this.reserved].find(([, o]) => o === owner)?.[0];
      if (mine !== undefined && !this.ips.has(mine)) ip = formatIPv4(mine);
    }
    if (ip) {
      const n = parseIPv4(ip);
      if (n === undefined) throw clusterIPError(svc, ip, 'not an IPv4 address');
      const reservedFor = this.reserved.get(n);
      if (reservedFor !== undefined && reservedFor !== owner) throw clusterIPError(svc, ip, 'provided IP is already allocated');
      const held = this.ips.ownerOf(n) === owner;
      const r = this.ips.allocate(n, owner);
      if (r === 'not-in-range') throw clusterIPError(svc, ip, `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.net.text}`);
      if (r === 'allocated') throw clusterIPError(svc, ip, 'provided IP is already allocated');
      if (!held) txn.took(() => this.ips.release(n, owner));
    } else {
      const n = this.ips.allocateNext(owner, (v) => this.reserved.has(v));
      if (n === undefined) throw internalError('failed to allocate a serviceIP: range is full');
      txn.took(() => this.ips.release(n, owner));
      ip = formatIPv4(n);
    }
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  /** Takes `port` for the Service unless it already holds it (then nothing to undo). */
  private takePort(port: number, owner: string, txn: Txn): 'ok' | 'allocated' | 'not-in-range' {
    const held = this.ports.ownerOf(port) === owner;
    const r = this.ports.allocate(port, owner);
    if (r === 'ok' && !held) txn.took(() => this.ports.release(port, owner));
    return r;
  }

  private portError(svc: Service, field: string, port: number, r: 'allocated' | 'not-in-range', prefix = ''): ApiError {
    const why = r === 'allocated' ? 'provided port is already allocated' : `provided port is not in the valid range. The range of valid ports is ${this.nodePortRange}`;
    return invalid('Service', svc.metadata?.name ?? '', [invalidValue(field, port, `${prefix}${why}`)]);
  }

  /**
   * Node ports of a NodePort/LoadBalancer Service: requested ones are checked and taken
   * (`heldBefore`: what the stored Service already holds, not taken again), missing ones
   * allocated — one per port number, shared by that number's protocols, as Kubernetes does.
   */
  private allocNodePorts(svc: Service, heldBefore: Set<number>, txn: Txn): void {
    const spec = specOf(svc);
    const owner = ownerOf(svc);
    if (needsNodePort(svc)) {
      const ports: ServicePort[] = spec.ports ?? [];
      const byPort = new Map<number, number>();
      ports.forEach((p, i) => {
        if (!p.nodePort) return;
        byPort.set(p.port, p.nodePort);
        if (heldBefore.has(p.nodePort)) return;
        const r = this.takePort(p.nodePort, owner, txn);
        if (r !== 'ok') throw this.portError(svc, `spec.ports[${i}].nodePort`, p.nodePort, r);
      });
      if (allocatesNodePorts(svc)) {
        for (const p of ports) {
          if (p.nodePort) continue;
          let port = byPort.get(p.port);
          if (port === undefined) {
            port = this.ports.allocateNext(owner);
            if (port === undefined) throw internalError('failed to allocate a nodePort: range is full');
            const taken = port;
            txn.took(() => this.ports.release(taken, owner));
            byPort.set(p.port, port);
          }
          p.nodePort = port;
        }
      }
    }
    if (needsHealthCheckNodePort(svc)) {
      const hc = spec.healthCheckNodePort ?? 0;
      if (hc) {
        if (!heldBefore.has(hc)) {
          const r = this.takePort(hc, owner, txn);
          if (r !== 'ok') throw this.portError(svc, 'spec.healthCheckNodePort', hc, r, `failed to allocate requested HealthCheck NodePort ${hc}: `);
        }
      } else {
        const port = this.ports.allocateNext(owner);
        if (port === undefined) throw internalError('failed to allocate a nodePort: range is full');
        txn.took(() => this.ports.release(port, owner));
        spec.healthCheckNodePort = port;
      }
    }
  }
}

/** The `kubernetes` Service as the API server keeps it (Kubernetes' `reconcilers` / `kubernetesservice` controller). */
export function kubernetesService(clusterIP: string, targetPort: number): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: KUBERNETES_SERVICE.name, namespace: KUBERNETES_SERVICE.namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort }],
    },
  };
}

/** What in a stored `kubernetes` Service differs from the wanted one and can be repaired in place. */
export function kubernetesServiceDrift(cur: Service, want: Service): boolean {
  const c = cur.spec ?? {};
  const w = want.spec ?? {};
  return c.type !== w.type || JSON.stringify(c.ports ?? []) !== JSON.stringify(w.ports ?? []) || Object.keys(c.selector ?? {}).length > 0 ||
    c.sessionAffinity !== w.sessionAffinity;
}

/**
 * Creates the `kubernetes` Service in `default` at start, or repairs it: wrong ports, type or a
 * selector are put right in place; a ClusterIP outside today's service CIDR (the cluster was
 * restarted with another `--service-cidr`) means deleting and creating it again. Its Endpoints
 * are written by the service proxy, which knows where the API server is reachable from pods.
 */
export async function ensureKubernetesService(rest: RestStorage, def: ResourceDef, want: Service, logger: { info(m: string): void }): Promise<void> {
  const { namespace, name } = KUBERNETES_SERVICE;
  let cur: Service | undefined;
  try {
    cur = (await rest.get(def, namespace, name)) as Service;
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
  }
  if (cur && cur.spec?.clusterIP !== want.spec?.clusterIP) {
    logger.info(`services: the kubernetes Service has ClusterIP ${cur.spec?.clusterIP ?? '<none>'}, not ${want.spec?.clusterIP ?? ''}: recreating it`);
    await rest.delete(def, namespace, name, {});
    cur = undefined;
  }
  if (!cur) {
    await rest.ensure(def, namespace, want);
    return;
  }
  if (!kubernetesServiceDrift(cur, want)) return;
  const next: Service = { ...cur, spec: { ...cur.spec, type: want.spec?.type, ports: want.spec?.ports, sessionAffinity: want.spec?.sessionAffinity } };
  delete next.spec?.selector;
  await rest.update(def, namespace, name, next as KubeObject, '');
}
