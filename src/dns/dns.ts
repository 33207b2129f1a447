/**
 * The cluster DNS component (CoreDNS's role): informers on Services, EndpointSlices and Pods
 * (through the API only) feed the record index; a {@link DnsServer} answers on the given
 * addresses; and the `kube-dns` Service with its Endpoints and EndpointSlice tells the cluster
 * where that is. One per cluster on this host, started by `up` as `minikube-lite dns …`.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject, Pod, Service } from '../api/types.js';
import { ApiError } from '../api/errors.js';
import { jsonEqual } from '../api/json.js';
import { PODS, type ApiClient, type ResourceRef } from '../client/client.js';
import { Informer } from '../client/informer.js';
import {
  DNS_PORT, ENDPOINTS, ENDPOINTSLICES, KUBE_DNS, KUBE_SYSTEM, SERVICES, kubeDnsEndpointSlice, kubeDnsEndpoints, kubeDnsService,
} from './kubedns.js';
import { buildIndex, DEFAULT_DOMAIN, DEFAULT_TTL, type DnsIndex } from './records.js';
import { DnsServer, type Upstream } from './server.js';

export interface ClusterDnsOptions {
  client: ApiClient;
  /** Addresses of this host on the cluster's networks to listen on (never 0.0.0.0). */
  listen: string[];
  /** Port to listen on (53; 0 picks a free one, for tests). */
  port?: number;
  /** The kube-dns Service IP to create it with (undefined: do not manage the Service). */
  serviceIP?: string;
  /** Addresses to publish as kube-dns endpoints; default: the listen addresses that are bound. */
  advertise?: string[];
  domain?: string;
  ttl?: number;
  upstream?: Upstream;
  /**
   * The longest wait before retrying an address that could not be bound (ms, default 2 s); the
   * first retries come sooner (100 ms, doubling), since a node network usually appears at once.
   */
  retryMs?: number;
  /** How long `start` waits for the first address to be bindable (ms, default 60 s). */
  bindTimeoutMs?: number;
  log?: (msg: string) => void;
}

export class ClusterDns {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly pods: Informer<Pod>;
  private readonly server: DnsServer;
  private readonly log: (msg: string) => void;
  private index?: DnsIndex;
  /** Set once every informer has listed: before that, in-cluster names get SERVFAIL, not a wrong NXDOMAIN. */
  private synced = false;
  private readonly bound = new Map<string, number>();
  private retry?: NodeJS.Timeout;
  /** The last wait before a rebind (doubles up to `retryMs`). */
  private retryDelay = 50;
  private stopped = false;
  /** The publish running now, and whether another was asked for meanwhile (one at a time, the last request wins). */
  private publishing?: Promise<void>;
  private publishAgain = false;
  private publishRetry?: NodeJS.Timeout;

  constructor(private readonly o: ClusterDnsOptions) {
    this.log = o.log ?? ((m) => process.stderr.write(`dns ${m}\n`));
    const onError = (what: string) => (e: unknown) => this.log(`${what} watch: ${(e as Error).message}`);
    this.services = new Informer<Service>(o.client, SERVICES, { onError: onError('service') });
    this.slices = new Informer<EndpointSlice>(o.client, ENDPOINTSLICES, { onError: onError('endpointslice') });
    this.pods = new Informer<Pod>(o.client, PODS, { onError: onError('pod') });
    // Handlers only mark the index stale; the next query rebuilds it from the caches.
    const stale = { onAdd: () => this.invalidate(), onUpdate: () => this.invalidate(), onDelete: () => this.invalidate() };
    this.services.addHandlers(stale);
    this.slices.addHandlers(stale);
    // Our own objects deleted or changed by someone else: write them again (as the addon manager's reconcile mode does).
    const ours = (obj: Service | EndpointSlice) => obj.metadata?.namespace === KUBE_SYSTEM && obj.metadata?.name === KUBE_DNS;
    const mine = { onUpdate: (_a: Service | EndpointSlice, b: Service | EndpointSlice) => { if (ours(b)) this.requestPublish(); },
      onDelete: (o: Service | EndpointSlice) => { if (ours(o)) this.requestPublish(); } };
    this.services.addHandlers(mine);
    this.slices.addHandlers(mine);
    this.pods.addHandlers({
      onAdd: () => this.invalidate(),
      onUpdate: (a, b) => {
        if (a.status?.podIP !== b.status?.podIP || a.metadata?.namespace !== b.metadata?.namespace) this.invalidate();
      },
      onDelete: () => this.invalidate(),
    });
    this.server = new DnsServer({ index: () => this.currentIndex(), upstream: o.upstream, log: this.log });
  }

  private invalidate(): void {
    this.index = undefined;
  }

  /** The index of the informers' current caches (rebuilt only after a change); undefined until they have synced. */
  currentIndex(): DnsIndex | undefined {
    if (!this.synced) return undefined;
    this.index ??= buildIndex({ services: this.services.list(), slices: this.slices.list(), pods: this.pods.list() }, { domain: this.o.domain, ttl: this.o.ttl });
    return this.index;
  }

  /** The addresses and ports actually listened on. */
  get listening(): { address: string; port: number }[] {
    return [...this.bound].map(([address, port]) => ({ address, port }));
  }

  /**
   * Binds every address it can (retrying the others in the background), syncs the caches
   * (answering SERVFAIL meanwhile), then writes the kube-dns Service and its endpoints.
   * Rejects when no address binds.
   */
  async start(): Promise<void> {
    // The addresses are the node networks' gateways: they exist once the kubelets created their
    // networks, which may be just after this process starts (`up` starts both at once).
    const deadline = Date.now() + (this.o.bindTimeoutMs ?? 60_000);
    await this.bindAll(false);
    while (this.bound.size === 0 && !this.stopped && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await this.bindAll(false);
    }
    if (this.bound.size === 0) throw new Error(`could not listen on any of ${this.o.listen.join(', ')} port ${this.o.port ?? DNS_PORT}`);
    await this.bindAll();
    await Promise.all([this.services.start(), this.slices.start(), this.pods.start()]);
    this.synced = true;
    this.invalidate();
    // The first publish holds the same slot as the later ones, so a rebind that asks for one
    // meanwhile (an address that became bindable) waits for it instead of racing it.
    const first = this.publish();
    this.publishing = first.catch(() => undefined).finally(() => {
      this.publishing = undefined;
      if (this.publishAgain) {
        this.publishAgain = false;
        this.requestPublish();
      }
    });
    await first;
  }

  /** Binds what it can; with `retryLater`, retries the rest in the background. */
  private async bindAll(retryLater = true): Promise<void> {
    for (const address of this.o.listen) {
      if (this.bound.has(address)) continue;
      try {
        const { udpPort } = await this.server.listen(address, this.o.port ?? DNS_PORT);
        this.bound.set(address, udpPort);
        this.log(`listening on ${address}:${udpPort} (udp, tcp)`);
      } catch (e) {
        if (retryLater) this.log(`cannot listen on ${address}:${this.o.port ?? DNS_PORT} yet: ${(e as Error).message}`);
      }
    }
    if (retryLater && this.bound.size < this.o.listen.length && !this.stopped) {
      this.retryDelay = Math.min(this.o.retryMs ?? 2000, this.retryDelay * 2);
      this.retry = setTimeout(() => void this.bindAll().then(() => this.requestPublish()).catch((e: unknown) => this.log(`rebind: ${(e as Error).message}`)), this.retryDelay);
    }
  }

  /**
   * Schedules {@link publish} (for event handlers: never concurrent, coalesced, failures logged
   * and retried after 2 s). Does nothing before the first publish by `start`.
   */
  private requestPublish(): void {
    if (!this.synced || this.stopped) return;
    if (this.publishing) {
      this.publishAgain = true;
      return;
    }
    this.publishing = this.publish()
      .catch((e: unknown) => {
        this.log(`writing kube-dns: ${(e as Error).message}; retrying`);
        this.publishRetry = setTimeout(() => this.requestPublish(), 2000);
      })
      .finally(() => {
        this.publishing = undefined;
        if (this.publishAgain) {
          this.publishAgain = false;
          this.requestPublish();
        }
      });
  }

  /** Creates the kube-dns Service if missing, and points its Endpoints and EndpointSlice at where we listen. */
  async publish(): Promise<void> {
    if (this.o.serviceIP === undefined) return;
    // In the configured order, whichever address was bound first.
    const addresses = this.o.advertise ?? this.o.listen.filter((a) => this.bound.has(a));
    const svc = await this.ensure(SERVICES, kubeDnsService(this.o.serviceIP), false);
    const ip = (svc as Service | undefined)?.spec?.clusterIP;
    if (ip && ip !== this.o.serviceIP) this.log(`warning: Service kube-system/kube-dns has ClusterIP ${ip}, not ${this.o.serviceIP}; pods' resolv.conf name ${this.o.serviceIP}`);
    await this.ensure(ENDPOINTS, kubeDnsEndpoints(addresses), true);
    await this.ensure(ENDPOINTSLICES, kubeDnsEndpointSlice(addresses), true);
  }

  /** Creates `want`, or (when `update`) replaces an existing object whose content differs. */
  private async ensure(ref: ResourceRef, want: KubeObject, update: boolean): Promise<KubeObject | undefined> {
    const r = { ...ref, namespace: KUBE_SYSTEM };
    const name = want.metadata?.name ?? KUBE_DNS;
    let existing: KubeObject | undefined;
    try {
      existing = await this.o.client.get<KubeObject>(r, name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    if (!existing) {
      try {
        return await this.o.client.create(r, want);
      } catch (e) {
        // Made meanwhile by someone else (an earlier run of this server): use it.
        if (!(e instanceof ApiError && e.code === 409)) throw e;
        existing = await this.o.client.get<KubeObject>(r, name);
      }
    }
    if (!update) return existing;
    const { metadata: _m, apiVersion: _a, kind: _k, ...wantBody } = want as KubeObject & Record<string, unknown>;
    const { metadata: _em, apiVersion: _ea, kind: _ek, ...haveBody } = existing as KubeObject & Record<string, unknown>;
    const labelsSame = jsonEqual({ ...existing.metadata?.labels, ...want.metadata?.labels }, existing.metadata?.labels ?? {});
    if (labelsSame && jsonEqual(pick(haveBody, Object.keys(wantBody)), wantBody)) return existing;
    const next = { ...existing, ...wantBody, metadata: { ...existing.metadata, labels: { ...existing.metadata?.labels, ...want.metadata?.labels } } };
    return this.o.client.update(r, next);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.publishRetry) clearTimeout(this.publishRetry);
    await this.publishing;
    this.services.stop();
    this.slices.stop();
    this.pods.stop();
    await this.server.close();
  }
}

function pick(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

export { DEFAULT_DOMAIN, DEFAULT_TTL };
