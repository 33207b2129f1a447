/**
 * The service proxy of this host (kube-proxy's role): watches Services, EndpointSlices and
 * Nodes through the API and keeps the host's iptables rules, routes and loopback relays equal
 * to what they describe. Informer handlers only mark the state dirty; one sync loop plans
 * (src/proxy/plan.ts, pure) and applies the whole plan in one `iptables-restore` batch, then
 * makes the relays match and writes back what the API should show:
 *
 * - `status.loadBalancer.ingress[0].ip` of LoadBalancer Services (the listen address);
 * - the annotation `minikube-lite.io/loopback` on ClusterIP Services: `{"80/TCP": "127.0.0.1:41234"}`,
 *   the loopback port relaying to each ClusterIP port, read by `minikube-lite service --url`;
 * - the `kubernetes` Service's Endpoints and EndpointSlice in `default` (as kube-apiserver's
 *   endpoint reconciler writes them), pointing at a node network address of this host where a
 *   relay forwards to the API server's HTTPS port.
 *
 * Written node-scoped: `localNodes` are the nodes whose pods this host holds; a node on another
 * host would run its own proxy with its own list.
 */
import type { EndpointSlice, Endpoints, Node, Service } from '../api/types.js';
import { ApiError } from '../api/errors.js';
import type { ApiClient, ResourceRef } from '../client/client.js';
import { ENDPOINTS, ENDPOINTSLICES, NODES, SERVICES } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import type { HostNetwork, HostRoute } from '../runtime/hostnet.js';
import { cleanupText, LABEL_SERVICE_NAME, LOOPBACK_ANNOTATION, planRules, restoreText, chainPrefix, savedAfter, savedCIDRs, type RulesPlan } from './plan.js';
import { Relays, type RelaySpec, type RelayState } from './relay.js';


/** kube-apiserver marks the `kubernetes` Endpoints so the mirroring controller leaves them alone. */
const SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';

export interface ProxierOptions {
  client: ApiClient;
  host: HostNetwork;
  cluster: string;
  serviceCIDR: string;
  clusterCIDR: string;
  /** Where NodePorts, LoadBalancer ports and loopback relays listen (default 127.0.0.1). */
  listenAddress?: string;
  /** The API server's HTTPS port on 127.0.0.1, fronted by the `kubernetes` Service. */
  apiSecurePort?: number;
  /** Nodes on this host; all nodes when absent. */
  localNodes?: string[];
  log?: (msg: string) => void;
  /** Periodic full resync (ms): re-checks rules someone else removed. Default 30 s. */
  resyncMs?: number;
}

/** What the proxy last did, for `/healthz` and tests. */
export interface SyncStatus {
  lastSync?: Date;
  lastError?: string;
  syncs: number;
  rules: number;
}

export class Proxier {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodes: Informer<Node>;
  private readonly relays = new Relays();
  private readonly log: (msg: string) => void;
  private readonly recorder: EventRecorder;
  private readonly listen: string;
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private readonly warned = new Set<string>();
  private writeBackError?: string;
  /** The plan last applied, and whether the next sync must read the host first. */
  private lastPlan?: RulesPlan;
  private lastRoutes = '';
  private fullSyncDue = true;
  private addresses: { dev: string; address: string }[] = [];
  readonly status: SyncStatus = { syncs: 0, rules: 0 };

  constructor(private readonly opts: ProxierOptions) {
    this.log = opts.log ?? ((m) => process.stderr.write(`proxy ${m}\n`));
    this.listen = opts.listenAddress ?? '127.0.0.1';
    const onError = (what: string) => (e: unknown) => this.log(`${what} watch: ${(e as Error).message}`);
    this.services = new Informer<Service>(opts.client, SERVICES, { onError: onError('services') });
    this.slices = new Informer<EndpointSlice>(opts.client, ENDPOINTSLICES, { onError: onError('endpointslices') });
    this.nodes = new Informer<Node>(opts.client, NODES, { onError: onError('nodes') });
    const kick = { onAdd: () => this.requestSync(), onUpdate: () => this.requestSync(), onDelete: () => this.requestSync() };
    this.services.addHandlers(kick);
    this.slices.addHandlers(kick);
    // Heartbeats change nodes every few seconds; only their addresses matter here.
    const addr = (n: Node) => JSON.stringify(n.status?.addresses ?? []);
    this.nodes.addHandlers({ ...kick, onUpdate: (o, n) => { if (addr(o) !== addr(n)) this.requestSync(); } });
    this.recorder = new EventRecorder(opts.client, 'kube-proxy', opts.localNodes?.[0], { log: this.log });
  }

  /**
   * Installs the guard at once (before anything is known, no address of the cluster's ranges
   * may leave the host), then starts the informers and syncs once they have listed. Resolves
   * after the first full sync.
   */
  async start(): Promise<void> {
    await this.apply(this.plan());
    await Promise.all([this.services.start(), this.nodes.start()]);
    // EndpointSlices may be unknown to an older API server: do not hold the first sync for them.
    await Promise.race([this.slices.start(), new Promise((r) => setTimeout(r, 2000))]);
    this.requestSync();
    await this.running;
    this.timer = setInterval(() => {
      this.fullSyncDue = true;
      this.requestSync();
    }, this.opts.resyncMs ?? 30_000);
    this.timer.unref();
  }

  /** Stops watching and closes the relays; the rules stay (as kube-proxy's do) until `cleanup`. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.services.stop();
    this.slices.stop();
    this.nodes.stop();
    await this.running?.catch(() => undefined);
    await this.relays.closeAll();
  }

  /** Coalesces: at most one sync runs, and one more follows if anything changed meanwhile. */
  requestSync(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.syncOnce();
          this.status.lastError = undefined;
        } catch (e) {
          this.status.lastError = (e as Error).message;
          this.log(`sync failed: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 1000));
          this.dirty = true;
        }
      }
    })().finally(() => (this.running = undefined));
  }

  /** The nodes of this host (all of the cluster's when not configured). */
  private localNodeNames(): string[] {
    return this.opts.localNodes ?? this.nodes.list().map((n) => n.metadata?.name ?? '').filter(Boolean);
  }

  /** First node (by name) with an InternalIP: its address is this host's address on that node network. */
  private firstNodeAddress(): string | undefined {
    const local = new Set(this.localNodeNames());
    const nodes = this.nodes.list().filter((n) => local.has(n.metadata?.name ?? '')).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    for (const n of nodes) {
      const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (ip) return ip;
    }
    return undefined;
  }

  /** The bridges of this host's nodes: the interfaces holding the nodes' InternalIPs. */
  private localBridges(addresses: { dev: string; address: string }[]): string[] {
    const ips = new Set(this.localNodeIPs());
    return addresses.filter((a) => ips.has(a.address)).map((a) => a.dev);
  }

  private plan(bridge?: string): RulesPlan {
    return planRules({
      cluster: this.opts.cluster, serviceCIDR: this.opts.serviceCIDR, clusterCIDR: this.opts.clusterCIDR,
      services: this.services.list(), slices: this.slices.list(), localNodes: this.localNodeNames(), bridge,
    });
  }

  private async syncOnce(): Promise<void> {
    const nodeIP = this.firstNodeAddress();
    const full = this.fullSyncDue || !this.lastPlan;
    // The host's addresses change only when node networks come or go: read them again then.
    const known = this.addresses.map((a) => a.address);
    if (full || this.localNodeIPs().some((ip) => !known.includes(ip))) this.addresses = await this.opts.host.addresses();
    const addresses = this.addresses;
    const bridge = nodeIP ? addresses.find((a) => a.address === nodeIP)?.dev : undefined;
    // Hairpin first: an endpoint added by this sync must be able to reach itself through its VIP.
    for (const dev of this.localBridges(addresses)) await this.opts.host.enableHairpin(dev);
    const plan = this.plan(bridge);
    for (const w of plan.warnings) {
      if (this.warned.has(w.service + w.message)) continue;
      this.warned.add(w.service + w.message);
      this.log(`service ${w.service}: ${w.message}`);
      const svc = this.services.get(w.service);
      if (svc) void this.recorder.event({ ...svc, kind: 'Service', apiVersion: 'v1' }, 'Warning', 'NotProxied', w.message);
    }
    await this.apply(plan, full);
    this.fullSyncDue = false;
    const relays = await this.relays.reconcile(this.relaySpecs(nodeIP));
    this.status.lastSync = new Date();
    this.status.syncs++;
    // The rules are in place; what the API should show is retried on its own, not by re-applying them.
    try {
      await this.writeBack(relays, nodeIP);
      this.writeBackError = undefined;
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.writeBackError) this.log(`writing Service status/endpoints: ${msg}`);
      this.writeBackError = msg;
      setTimeout(() => this.requestSync(), 2000).unref();
    }
  }

  /**
   * One iptables-restore batch, then the routes. A full sync reads the host first (iptables-save,
   * routes): it finds chains and jumps to repair after a crash or someone else's change. Between
   * full syncs the host is taken to be as the last plan left it (kube-proxy's partial syncs).
   */
  private async apply(plan: RulesPlan, full = true): Promise<void> {
    const current = full || !this.lastPlan
      ? { nat: await this.opts.host.save('nat'), filter: await this.opts.host.save('filter') }
      : savedAfter(this.lastPlan);
    try {
      await this.opts.host.restore(restoreText(plan, current));
    } catch (e) {
      this.fullSyncDue = true;
      throw e;
    }
    this.status.rules = [...plan.nat.values(), ...plan.filter.values()].reduce((n, r) => n + r.length, 0);
    const routes = JSON.stringify(plan.routes);
    if (full || routes !== this.lastRoutes) await syncRoutes(this.opts.host, plan.routes);
    this.lastRoutes = routes;
    this.lastPlan = plan;
  }

  private localNodeIPs(): string[] {
    const local = new Set(this.localNodeNames());
    return this.nodes.list().filter((n) => local.has(n.metadata?.name ?? ''))
      .map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '').filter(Boolean);
  }

  /** Every relay this host should run: NodePorts and LoadBalancer ports (TCP, UDP), loopback ports (TCP), the API server's. */
  private relaySpecs(nodeIP: string | undefined): RelaySpec[] {
    const specs: RelaySpec[] = [];
    for (const svc of this.services.list()) {
      const spec = svc.spec ?? {};
      const ip = spec.clusterIP;
      if (!ip || ip === 'None' || spec.type === 'ExternalName') continue;
      const id = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
      const published = parseLoopback(svc.metadata?.annotations?.[LOOPBACK_ANNOTATION]);
      for (const p of spec.ports ?? []) {
        const protocol: RelaySpec['protocol'] = p.protocol === 'UDP' ? 'UDP' : (p.protocol ?? 'TCP') === 'TCP' ? 'TCP' : undefined;
        if (!protocol) continue; // SCTP: the planner warns about it
        const target = { targetHost: ip, targetPort: p.port, protocol };
        const portKey = `${p.port}/${protocol}`;
        if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && p.nodePort) {
          specs.push({ key: `nodeport:${id}:${portKey}`, host: this.listen, port: p.nodePort, ...target });
        }
        if (spec.type === 'LoadBalancer') specs.push({ key: `lb:${id}:${portKey}`, host: this.listen, port: p.port, ...target });
        // The loopback URLs of `service --url` are for TCP (HTTP) ports.
        if (protocol !== 'TCP') continue;
        const prev = published[portKey] ? Number(published[portKey].split(':').pop()) : undefined;
        specs.push({ key: `loopback:${id}:${portKey}`, host: this.listen, port: 0, ...(prev ? { preferredPort: prev } : {}), ...target });
      }
    }
    if (nodeIP && this.opts.apiSecurePort) {
      specs.push({ key: 'apiserver', host: nodeIP, port: this.opts.apiSecurePort, targetHost: '127.0.0.1', targetPort: this.opts.apiSecurePort });
    }
    return specs;
  }

  /** Load balancer status, loopback annotations and the `kubernetes` endpoints; each write only when it differs. */
  private async writeBack(relays: Map<string, RelayState>, nodeIP: string | undefined): Promise<void> {
    for (const [key, r] of relays) {
      if (r.error && !this.warned.has(key + r.error)) {
        this.warned.add(key + r.error);
        this.log(`relay ${key}: ${r.error}`);
      }
    }
    const ingressIP = this.listen === '0.0.0.0' ? '127.0.0.1' : this.listen;
    for (const svc of this.services.list()) {
      const id = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
      const spec = svc.spec ?? {};
      const ns = svc.metadata?.namespace ?? 'default';
      const name = svc.metadata?.name ?? '';
      const ref = { ...SERVICES, namespace: ns };
      try {
        const ingress = svc.status?.loadBalancer?.ingress ?? [];
        if (spec.type === 'LoadBalancer') {
          const lbOK = (spec.ports ?? []).every((p) => (p.protocol ?? 'TCP') === 'SCTP' || relays.get(`lb:${id}:${p.port}/${p.protocol ?? 'TCP'}`)?.boundPort);
          if (lbOK && !(ingress.length === 1 && ingress[0].ip === ingressIP)) {
            await this.opts.client.patch(ref, name, { status: { loadBalancer: { ingress: [{ ip: ingressIP, ipMode: 'VIP' }] } } }, 'status');
          }
        } else if (ingress.length) {
          await this.opts.client.patch(ref, name, { status: { loadBalancer: { ingress: null } } }, 'status');
        }
        const loopback: Record<string, string> = {};
        for (const p of spec.ports ?? []) {
          const r = relays.get(`loopback:${id}:${p.port}/TCP`);
          if (r?.boundPort) loopback[`${p.port}/TCP`] = `${ingressIP}:${r.boundPort}`;
        }
        const want = Object.keys(loopback).length ? JSON.stringify(loopback) : undefined;
        if (want !== svc.metadata?.annotations?.[LOOPBACK_ANNOTATION]) {
          await this.opts.client.patch(ref, name, { metadata: { annotations: { [LOOPBACK_ANNOTATION]: want ?? null } } });
        }
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
      }
    }
    const api = relays.get('apiserver');
    if (nodeIP && this.opts.apiSecurePort && api?.boundPort) await this.writeKubernetesEndpoints(nodeIP, this.opts.apiSecurePort);
  }

  /** The `kubernetes` Endpoints and EndpointSlice, as kube-apiserver's endpoint reconciler keeps them. */
  private async writeKubernetesEndpoints(ip: string, port: number): Promise<void> {
    const epRef = { ...ENDPOINTS, namespace: 'default' };
    const endpoints: Endpoints = {
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { [SKIP_MIRROR]: 'true' } },
      subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
    };
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    };
    await upsert(this.opts.client, epRef, endpoints, (cur) => JSON.stringify(cur.subsets) === JSON.stringify(endpoints.subsets));
    const existing = this.slices.get('default/kubernetes');
    if (existing && JSON.stringify(existing.endpoints) === JSON.stringify(slice.endpoints) && JSON.stringify(existing.ports) === JSON.stringify(slice.ports)) return;
    await upsert(this.opts.client, { ...ENDPOINTSLICES, namespace: 'default' }, slice,
      (cur) => JSON.stringify(cur.endpoints) === JSON.stringify(slice.endpoints) && JSON.stringify(cur.ports) === JSON.stringify(slice.ports));
  }
}

/** Creates `obj`, or replaces it when `same(current)` says it differs; an unknown kind (404 on list) is skipped. */
async function upsert<T extends { metadata?: { name?: string; resourceVersion?: string } }>(client: ApiClient, ref: ResourceRef, obj: T, same: (cur: T) => boolean): Promise<void> {
  const name = obj.metadata?.name ?? '';
  let cur: T | undefined;
  try {
    cur = await client.get<T & { apiVersion?: string }>(ref, name);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  try {
    if (!cur) await client.create(ref, obj);
    else if (!same(cur)) await client.update(ref, { ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata?.resourceVersion } });
  } catch (e) {
    // 404: the API server does not serve this kind (yet); 409: raced with another writer, next sync retries.
    if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
  }
}

function parseLoopback(v: string | undefined): Record<string, string> {
  if (!v) return {};
  try {
    const o = JSON.parse(v) as unknown;
    return o && typeof o === 'object' ? (o as Record<string, string>) : {};
  } catch {
    return {}; // a hand-edited annotation: the next sync rewrites it
  }
}

/** Makes the host's routes for each planned destination equal to the plan (replace when different). */
export async function syncRoutes(host: HostNetwork, routes: readonly HostRoute[]): Promise<void> {
  for (const r of routes) {
    const cur = await host.routesTo(r.dst);
    if (cur.length === 1 && cur[0].type === r.type && cur[0].dev === r.dev) continue;
    for (const c of cur) if (c.type !== r.type) await host.deleteRoute(c);
    await host.replaceRoute(r);
  }
}

/**
 * Programs the guard of a cluster whose proxy is not running yet: the rules the proxy starts
 * with (no Service known), so nothing addressed to the service CIDR leaves the host and every
 * such packet is refused. `up` calls it before it starts any process, so the kubelets need not
 * wait for the proxy; the proxy's first sync then replaces these rules with its own.
 */
export async function installGuard(host: HostNetwork, o: { cluster: string; serviceCIDR: string; clusterCIDR: string }): Promise<void> {
  const plan = planRules({ ...o, services: [], slices: [], localNodes: [] });
  await host.restore(restoreText(plan, { nat: await host.save('nat'), filter: await host.save('filter') }));
  await syncRoutes(host, plan.routes);
}

/**
 * Removes every rule, chain and route of `cluster` from the host, whether or not its proxy is
 * still running (stop it first, or it puts them back). Idempotent; used by `down`. CIDRs not
 * given are read back from the cluster's guard chain; returns the CIDRs it used.
 */
export async function cleanupHost(host: HostNetwork, cluster: string, cidrs: { serviceCIDR?: string; clusterCIDR?: string }): Promise<{ serviceCIDR?: string; clusterCIDR?: string }> {
  const prefix = chainPrefix(cluster);
  const current = { nat: await host.save('nat'), filter: await host.save('filter') };
  const saved = savedCIDRs(prefix, current.filter);
  const text = cleanupText(prefix, current);
  if (text) await host.restore(text);
  for (const dst of new Set([cidrs.serviceCIDR, cidrs.clusterCIDR, saved.serviceCIDR, saved.clusterCIDR])) {
    if (!dst) continue;
    for (const r of await host.routesTo(dst)) await host.deleteRoute(r);
  }
  return { serviceCIDR: cidrs.serviceCIDR ?? saved.serviceCIDR, clusterCIDR: cidrs.clusterCIDR ?? saved.clusterCIDR };
}
