/**
 * The Proxier against an in-process API server and a fake host network: the guard goes in
 * before anything is watched, Services + EndpointSlices become one restore batch each sync,
 * LoadBalancer status and loopback annotations are written back, the `kubernetes` Service gets
 * its Endpoints and EndpointSlice, and hairpin mode is turned on before endpoints are programmed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import type { EndpointSlice, Endpoints, Node, Service } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { ApiClient, ENDPOINTS, ENDPOINTSLICES, NODES, SERVICES } from '../../src/client/client.js';
import type { HostNetwork, HostRoute } from '../../src/runtime/hostnet.js';
import { Proxier } from '../../src/proxy/proxier.js';
import { LOOPBACK_ANNOTATION } from '../../src/proxy/plan.js';
import { SqliteStore } from '../../src/store/sqlite.js';

/** A host that records what the proxy did, in order. */
class FakeHost implements HostNetwork {
  readonly calls: string[] = [];
  readonly batches: string[] = [];
  readonly routes = new Map<string, HostRoute>();
  saves = 0;
  async save(): Promise<string> { this.saves++; return ''; }
  async restore(text: string): Promise<void> { this.calls.push('restore'); this.batches.push(text); }
  async replaceRoute(r: HostRoute): Promise<void> { this.calls.push(`route ${r.type} ${r.dst}`); this.routes.set(r.dst, r); }
  async deleteRoute(r: Pick<HostRoute, 'dst'>): Promise<void> { this.routes.delete(r.dst); }
  async routesTo(dst: string): Promise<HostRoute[]> { const r = this.routes.get(dst); return r ? [r] : []; }
  async addresses(): Promise<{ dev: string; address: string }[]> { return [{ dev: 'br-test', address: NODE_IP }]; }
  async hairpinModes(): Promise<Record<string, boolean>> { return {}; }
  async enableHairpin(bridge: string): Promise<number> { this.calls.push(`hairpin ${bridge}`); return 0; }
}

const freePort = () => new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
  });
});

const TOKEN = 'proxier-test-token';
/**
 * A non-loopback address of this machine to stand for the node's bridge address (the API
 * rejects loopback endpoints, as Kubernetes does); the relay listens on it, nothing is sent.
 */
const NODE_IP = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
let server: Awaited<ReturnType<typeof startApiServer>>;
let client: ApiClient;
let host: FakeHost;
let proxier: Proxier;
let apiPort: number;

/** Resolves when `check` holds, re-checking every 20 ms (the proxy has no watch of its own progress). */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN });
  client = new ApiClient({ server: server.url, token: TOKEN });
  await client.create<Node>(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.1.0/24' } });
  await client.patch(NODES, 'node-1', { status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } }, 'status');
  host = new FakeHost();
  apiPort = await freePort();
  proxier = new Proxier({ client, host, cluster: 'unit', serviceCIDR: '10.96.0.0/16', clusterCIDR: '10.244.0.0/16', apiSecurePort: apiPort, log: () => undefined });
  await proxier.start();
});

afterAll(async () => {
  await proxier?.stop();
  await server?.close();
});

describe('the proxier', () => {
  it('installs the guard (REJECT of the service CIDR) and the pod CIDR route in its very first step', () => {
    expect(host.calls[0]).toBe('restore');
    expect(host.batches[0]).toMatch(/-d 10\.96\.0\.0\/16 .*-j REJECT/);
    expect(host.calls[1]).toBe('route unreachable 10.244.0.0/16');
  });

  it('turns hairpin mode on for the node bridges before it programs endpoints', () => {
    const firstHairpin = host.calls.indexOf('hairpin br-test');
    expect(firstHairpin).toBeGreaterThan(0);
    expect(host.calls.slice(firstHairpin + 1)).toContain('restore');
  });

  it('routes the service CIDR onto a bridge of the cluster once a node is known', () => {
    expect(host.routes.get('10.96.0.0/16')).toEqual({ dst: '10.96.0.0/16', type: 'unicast', dev: 'br-test' });
  });

  it('programs a Service and its ready endpoints in one batch', async () => {
    const svc = await client.create<Service>({ ...SERVICES, namespace: 'default' }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    await client.create<EndpointSlice>({ ...ENDPOINTSLICES, namespace: 'default' }, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }, { addresses: ['10.244.1.6'], conditions: { ready: false } }],
    });
    const batch = await eventually('a batch with the DNAT', () => host.batches.find((b) => b.includes('--to-destination 10.244.1.5:8080')));
    expect(batch).toContain(`-d ${svc.spec?.clusterIP}/32 -p tcp -m tcp --dport 80`);
    expect(batch).not.toContain('10.244.1.6');
    expect(batch.match(/^COMMIT$/gm)).toHaveLength(2);
  });

  it('reads the host (iptables-save) only on full syncs, not for every change', async () => {
    const saves = host.saves;
    const batches = host.batches.length;
    await client.create<Service>({ ...SERVICES, namespace: 'default' }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'partial' }, spec: { ports: [{ port: 81 }] },
    });
    await eventually('a batch for the new Service', () => host.batches.slice(batches).find((b) => b.includes('default/partial')));
    expect(host.saves).toBe(saves);
  });

  it('publishes a loopback relay for a ClusterIP Service in an annotation', async () => {
    const ann = await eventually('the loopback annotation', async () =>
      (await client.get<Service>({ ...SERVICES, namespace: 'default' }, 'web')).metadata?.annotations?.[LOOPBACK_ANNOTATION]);
    expect(JSON.parse(ann)).toEqual({ '80/TCP': expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  });

  it('writes 127.0.0.1 as the load balancer ingress of a LoadBalancer Service it serves', async () => {
    const port = await freePort();
    await client.create<Service>({ ...SERVICES, namespace: 'default' }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port, targetPort: 80 }] },
    });
    const ingress = await eventually('the ingress', async () =>
      (await client.get<Service>({ ...SERVICES, namespace: 'default' }, 'lb')).status?.loadBalancer?.ingress);
    expect(ingress).toEqual([{ ip: '127.0.0.1', ipMode: 'VIP' }]);
  });

  it.skipIf(NODE_IP === '127.0.0.1')('gives the kubernetes Service Endpoints and an EndpointSlice at the node address and the API server port (skipped without a non-loopback IPv4 address to stand for the node)', async () => {
    const ep = await eventually('the kubernetes Endpoints', () => client.get<Endpoints>({ ...ENDPOINTS, namespace: 'default' }, 'kubernetes').catch(() => undefined));
    expect(ep.subsets).toEqual([{ addresses: [{ ip: NODE_IP }], ports: [{ name: 'https', port: apiPort, protocol: 'TCP' }] }]);
    expect(ep.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror']).toBe('true');
    const slice = await client.get<EndpointSlice>({ ...ENDPOINTSLICES, namespace: 'default' }, 'kubernetes');
    expect(slice.endpoints?.[0].addresses).toEqual([NODE_IP]);
  });
});
