/**
 * The cluster DNS component against a real API server (in-process, in-memory store): records
 * follow Services, EndpointSlices and Pods through the informers; the kube-dns Service,
 * Endpoints and EndpointSlice are written (and repointed) through the API and pass its
 * validation; an ExternalName loop is answered, not followed forever.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject, Pod, Service } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS, SERVICES, type ResourceRef } from '../../src/client/client.js';
import { queryDns, rcodeOf } from '../../src/dns/client.js';
import { ClusterDns } from '../../src/dns/dns.js';
import { ENDPOINTS, ENDPOINTSLICES } from '../../src/dns/kubedns.js';
import { buildIndex, resolve } from '../../src/dns/records.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const TOKEN = 'dns-test-token';
let server: Awaited<ReturnType<typeof startApiServer>>;
let client: ApiClient;
let dns: ClusterDns;
let port = 0;
const inNs = (ref: ResourceRef, namespace = 'default') => ({ ...ref, namespace });

/** Asks the DNS until `ok` holds for the answer (the informers deliver asynchronously), each query prompt. */
async function until(name: string, ok: (data: string[], rcode: number) => boolean, type: 'A' | 'SRV' = 'A'): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const r = await queryDns('127.0.0.1', port, name, { type });
    const data = (r.answers ?? []).map((a) => (typeof (a as { data: unknown }).data === 'string' ? String((a as { data: string }).data) : JSON.stringify((a as { data: unknown }).data)));
    if (ok(data, rcodeOf(r))) return data;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`no matching answer for ${name}`);
}

beforeEach(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, logger: { info: () => {}, error: () => {} } });
  client = new ApiClient({ server: server.url, token: TOKEN });
  dns = new ClusterDns({ client, listen: ['127.0.0.1'], port: 0, serviceIP: '10.96.0.10', advertise: ['10.244.1.1'], log: () => {} });
  await dns.start();
  port = dns.listening[0].port;
});

afterEach(async () => {
  await dns.stop();
  await server.close();
});

describe('cluster DNS component', () => {
  it('creates the kube-dns Service at the 10th service IP, with selector-less Endpoints and an EndpointSlice', async () => {
    const svc = await client.get<Service>(inNs(SERVICES, 'kube-system'), 'kube-dns');
    expect(svc.spec?.clusterIP).toBe('10.96.0.10');
    expect(svc.spec?.selector).toBeUndefined();
    expect(svc.spec?.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`)).toEqual(['dns 53/UDP', 'dns-tcp 53/TCP']);
    expect(svc.metadata?.labels?.['k8s-app']).toBe('kube-dns');
    const ep = await client.get<Endpoints & KubeObject>(inNs(ENDPOINTS, 'kube-system'), 'kube-dns');
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip)).toEqual(['10.244.1.1']);
    const slice = await client.get<EndpointSlice & KubeObject>(inNs(ENDPOINTSLICES, 'kube-system'), 'kube-dns');
    expect(slice.endpoints?.map((e) => e.addresses[0])).toEqual(['10.244.1.1']);
    expect(slice.metadata?.labels?.['kubernetes.io/service-name']).toBe('kube-dns');
  });

  it('repoints the endpoints when the DNS moves, and keeps an existing Service', async () => {
    await dns.stop();
    dns = new ClusterDns({ client, listen: ['127.0.0.1'], port: 0, serviceIP: '10.96.0.10', advertise: ['10.244.1.1', '10.244.2.1'], log: () => {} });
    await dns.start();
    const ep = await client.get<Endpoints & KubeObject>(inNs(ENDPOINTS, 'kube-system'), 'kube-dns');
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip)).toEqual(['10.244.1.1', '10.244.2.1']);
    const slice = await client.get<EndpointSlice & KubeObject>(inNs(ENDPOINTSLICES, 'kube-system'), 'kube-dns');
    expect(slice.endpoints?.map((e) => e.addresses[0])).toEqual(['10.244.1.1', '10.244.2.1']);
    const rv = slice.metadata?.resourceVersion;
    await dns.publish();
    expect((await client.get<EndpointSlice & KubeObject>(inNs(ENDPOINTSLICES, 'kube-system'), 'kube-dns')).metadata?.resourceVersion).toBe(rv);
  });

  it('two DNS servers publishing at once (or a rebind racing the first publish) both succeed, writing one Service', async () => {
    for (const ref of [SERVICES, ENDPOINTS, ENDPOINTSLICES]) await client.delete(inNs(ref, 'kube-system'), 'kube-dns');
    const other = new ClusterDns({ client, listen: ['127.0.0.1'], port: 0, serviceIP: '10.96.0.10', advertise: ['10.244.1.1'], log: () => {} });
    await Promise.all([dns.publish(), other.publish(), dns.publish()]);
    expect((await client.list(inNs(SERVICES, 'kube-system'))).items.map((o) => o.metadata?.name)).toEqual(['kube-dns']);
    const ep = await client.get<Endpoints & KubeObject>(inNs(ENDPOINTS, 'kube-system'), 'kube-dns');
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip)).toEqual(['10.244.1.1']);
  });

  it('writes the kube-dns Service and EndpointSlice again when someone deletes them', async () => {
    const watchFor = (ref: ResourceRef, name: string) => new Promise<void>((resolve, reject) => {
      const h = client.watch<KubeObject>(ref, { fieldSelector: `metadata.name=${name}` }, (e) => {
        if (e.type === 'ADDED' && e.object.metadata?.name === name) { h.stop(); resolve(); }
      });
      h.done.catch(reject);
    });
    for (const ref of [inNs(SERVICES, 'kube-system'), inNs(ENDPOINTSLICES, 'kube-system')]) {
      const uid = (await client.get<KubeObject>(ref, 'kube-dns')).metadata?.uid;
      await client.delete(ref, 'kube-dns');
      // A watch without a resourceVersion replays what exists first: it resolves at the re-creation.
      await watchFor(ref, 'kube-dns');
      expect((await client.get<KubeObject>(ref, 'kube-dns')).metadata?.uid).not.toBe(uid);
    }
  });

  it('follows Services as they come and go, and answers the kube-dns and kubernetes Services', async () => {
    await until('kube-dns.kube-system.svc.cluster.local', (d) => d[0] === '10.96.0.10');
    await client.create<Service>(inNs(SERVICES), { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } });
    const ip = (await client.get<Service>(inNs(SERVICES), 'web')).spec?.clusterIP ?? '';
    expect(await until('web.default.svc.cluster.local', (d) => d.length === 1)).toEqual([ip]);
    await client.delete(inNs(SERVICES), 'web');
    await until('web.default.svc.cluster.local', (d, rcode) => rcode === 3);
  });

  it('answers a headless Service from its EndpointSlices and a pod record from the Pods', async () => {
    await client.create<Service>(inNs(SERVICES), { metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
    await client.create<EndpointSlice & KubeObject>(inNs(ENDPOINTSLICES), {
      metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.7'], hostname: 'db-0', conditions: { ready: true } }, { addresses: ['10.244.2.8'], conditions: { ready: false } }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    });
    expect(await until('db.default.svc.cluster.local', (d) => d.length > 0)).toEqual(['10.244.1.7']);
    expect(await until('_pg._tcp.db.default.svc.cluster.local', (d) => d.length > 0, 'SRV')).toEqual(['{"priority":0,"weight":100,"port":5432,"target":"db-0.db.default.svc.cluster.local"}']);
    const pod = await client.create<Pod>(inNs(PODS), { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.patch(inNs(PODS), pod.metadata?.name ?? '', { status: { podIP: '10.244.1.9', podIPs: [{ ip: '10.244.1.9' }] } }, 'status');
    expect(await until('10-244-1-9.default.pod.cluster.local', (d) => d.length > 0)).toEqual(['10.244.1.9']);
  });
});

describe('ExternalName chains', () => {
  it('stops following a loop of aliases and answers the CNAMEs it has', () => {
    const index = buildIndex({
      services: [
        { metadata: { name: 'a', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'b.default.svc.cluster.local' } },
        { metadata: { name: 'b', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'a.default.svc.cluster.local' } },
      ],
      slices: [], pods: [],
    });
    const r = resolve(index, { name: 'a.default.svc.cluster.local', type: 'A' });
    expect(r.kind === 'answer' && r.answers.every((a) => a.type === 'CNAME')).toBe(true);
    expect(r.kind === 'answer' && r.answers.length).toBe(9);
  });
});
