/**
 * Services through the real API server (HTTP, in-memory SQLite, the real registry): ClusterIP
 * and NodePort allocation on create, checks of requested values (422 with Kubernetes' field
 * paths and words), release on delete and on type change, no double allocation under
 * concurrent creates, state rebuilt from the store after a restart, and the `kubernetes`
 * Service the API server keeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import { inIPv4Net, parseIPv4CIDR } from '../../src/api/ip.js';
import type { Service, Status } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ApiClient, SERVICES } from '../../src/client/client.js';
import { call, TOKEN } from './apiserver.fixtures.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: { serviceCIDR?: string; store?: SqliteStore; repairMs?: number } = {}): Promise<{ base: string; store: SqliteStore; server: ApiServer }> {
  const store = opts.store ?? new SqliteStore(':memory:');
  const server = await startApiServer({
    store, resources: RESOURCES, port: 0, token: TOKEN, serviceCIDR: opts.serviceCIDR, kubernetesServiceIntervalMs: opts.repairMs ?? 0,
    logger: { info: () => undefined, error: () => undefined },
  });
  servers.push(server);
  return { base: server.url, store, server };
}

const svcPath = (ns = 'default', name = '') => `/api/v1/namespaces/${ns}/services${name ? `/${name}` : ''}`;

function svc(name: string, spec: Service['spec'] = {}, namespace = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

const create = (base: string, s: Service, query = '') => call<Service & Status>(base, 'POST', svcPath(s.metadata?.namespace) + query, { body: s });

describe('ClusterIP allocation', () => {
  it('gives a new Service a free address of the service CIDR, never the 1st or the 10th, with single-stack IPv4 families', async () => {
    const { base } = await start();
    const r = await create(base, svc('web'));
    expect(r.status, r.text).toBe(201);
    const spec = r.body.spec ?? {};
    expect(inIPv4Net(parseIPv4CIDR('10.96.0.0/16'), spec.clusterIP ?? '')).toBe(true);
    expect(['10.96.0.1', '10.96.0.10']).not.toContain(spec.clusterIP);
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(spec.ipFamilies).toEqual(['IPv4']);
    expect(spec.ipFamilyPolicy).toBe('SingleStack');
    expect(spec.internalTrafficPolicy).toBe('Cluster');
    expect(r.body.status).toEqual({ loadBalancer: {} });
  });

  it.each<[string, string, string]>([
    ['outside the range', '10.97.0.5', 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.97.0.5"}: failed to allocate IP 10.97.0.5: the provided IP (10.97.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/16'],
    ['the network address', '10.96.0.0', 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.0"}: failed to allocate IP 10.96.0.0: the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/16'],
    ["the kubernetes Service's", '10.96.0.1', 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.1"}: failed to allocate IP 10.96.0.1: provided IP is already allocated'],
    ['kept for cluster DNS', '10.96.0.10', 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated'],
    ['not an IP', '10.96.0.300', 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
  ])('refuses a requested ClusterIP %s with 422 and stores nothing', async (_, ip, message) => {
    const { base } = await start();
    const r = await create(base, svc('web', { clusterIP: ip }));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(message);
    expect(r.body.reason).toBe('Invalid');
    expect((await call(base, 'GET', svcPath('default', 'web'))).status).toBe(404);
  });

  it('refuses an address another Service holds, and gives it out again once that Service is deleted', async () => {
    const { base } = await start();
    expect((await create(base, svc('a', { clusterIP: '10.96.5.5' }))).status).toBe(201);
    const taken = await create(base, svc('b', { clusterIP: '10.96.5.5' }));
    expect(taken.status).toBe(422);
    expect(taken.body.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: 'Invalid value: []string{"10.96.5.5"}: failed to allocate IP 10.96.5.5: provided IP is already allocated' }]);
    expect((await call(base, 'DELETE', svcPath('default', 'a'))).status).toBe(200);
    expect((await create(base, svc('b', { clusterIP: '10.96.5.5' }))).status).toBe(201);
  });

  it('gives kube-system/kube-dns the 10th address when it asks for none, and lets it ask for that one', async () => {
    const { base } = await start();
    const dns = await create(base, svc('kube-dns', {}, 'kube-system'));
    expect(dns.body.spec?.clusterIP).toBe('10.96.0.10');
    await call(base, 'DELETE', svcPath('kube-system', 'kube-dns'));
    const again = await create(base, svc('kube-dns', { clusterIP: '10.96.0.10' }, 'kube-system'));
    expect(again.status, again.text).toBe(201);
  });

  it('does not hold the address of a dry run', async () => {
    const { base } = await start();
    const dry = await create(base, svc('a', { clusterIP: '10.96.7.7' }), '?dryRun=All');
    expect(dry.status).toBe(201);
    expect(dry.body.spec?.clusterIP).toBe('10.96.7.7');
    expect((await create(base, svc('b', { clusterIP: '10.96.7.7' }))).status).toBe(201);
  });

  it('never gives one address twice to concurrent creates, and answers 500 "range is full" when none is left', async () => {
    // A /26 has 62 usable addresses; the 1st and the 10th are kept: 60 for others.
    const { base } = await start({ serviceCIDR: '10.96.0.0/26' });
    const results = await Promise.all(Array.from({ length: 61 }, (_, i) => create(base, svc(`s${i}`))));
    const ok = results.filter((r) => r.status === 201).map((r) => r.body.spec?.clusterIP ?? '');
    expect(ok).toHaveLength(60);
    expect(new Set(ok).size).toBe(60);
    expect(ok).not.toContain('10.96.0.1');
    expect(ok).not.toContain('10.96.0.10');
    const full = results.find((r) => r.status !== 201);
    expect(full?.status).toBe(500);
    expect(full?.body.message).toBe('Internal error occurred: failed to allocate a serviceIP: range is full');
  });

  it('keeps allocations across a restart: they are rebuilt from the stored Services', async () => {
    const store = new SqliteStore(':memory:');
    const first = await start({ store, serviceCIDR: '10.96.0.0/27' });
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => create(first.base, svc(`s${i}`))));
    const held = made.map((r) => r.body.spec?.clusterIP);
    await first.server.close();
    servers.splice(servers.indexOf(first.server), 1);
    const second = await start({ store, serviceCIDR: '10.96.0.0/27' });
    const taken = await create(second.base, svc('x', { clusterIP: held[0] }));
    expect(taken.body.message).toContain('provided IP is already allocated');
    // 30 usable, 2 kept, 10 held: exactly 18 more, none of them held ones.
    const more = await Promise.all(Array.from({ length: 19 }, (_, i) => create(second.base, svc(`t${i}`))));
    const fresh = more.filter((r) => r.status === 201).map((r) => r.body.spec?.clusterIP);
    expect(fresh).toHaveLength(18);
    expect(fresh.filter((ip) => held.includes(ip))).toEqual([]);
  });

  it('keeps the ClusterIP when an update leaves it out, and refuses to change it', async () => {
    const { base } = await start();
    const made = (await create(base, svc('web'))).body;
    const put = await call<Service & Status>(base, 'PUT', svcPath('default', 'web'), { body: svc('web', { ports: [{ port: 8080 }] }) });
    expect(put.status, put.text).toBe(200);
    expect(put.body.spec?.clusterIP).toBe(made.spec?.clusterIP);
    const change = await call<Service & Status>(base, 'PUT', svcPath('default', 'web'), { body: svc('web', { clusterIP: '10.96.9.9', clusterIPs: ['10.96.9.9'] }) });
    expect(change.status).toBe(422);
    expect(change.body.message).toBe('Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.9.9"}: may not change once set');
  });

  it('releases the ClusterIP when the type changes to ExternalName and allocates one when it changes back', async () => {
    const { base } = await start();
    const made = (await create(base, svc('web', { clusterIP: '10.96.3.3' }))).body;
    const toName = { ...made, spec: { ...made.spec, type: 'ExternalName', externalName: 'example.com' } };
    const r = await call<Service & Status>(base, 'PUT', svcPath('default', 'web'), { body: toName });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec?.clusterIP).toBeUndefined();
    expect(r.body.spec?.ipFamilies).toBeUndefined();
    expect((await create(base, svc('other', { clusterIP: '10.96.3.3' }))).status).toBe(201);
    const back = { ...r.body, spec: { ...r.body.spec, type: 'ClusterIP', externalName: undefined } };
    const b = await call<Service & Status>(base, 'PUT', svcPath('default', 'web'), { body: back });
    expect(b.status, b.text).toBe(200);
    expect(b.body.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(b.body.spec?.ipFamilies).toEqual(['IPv4']);
  });

  it.each<[string, Service['spec'], Partial<NonNullable<Service['spec']>>]>([
    ['a headless Service', { clusterIP: 'None' }, { clusterIP: 'None', clusterIPs: ['None'], ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] }],
    ['a headless Service without selector', { clusterIP: 'None', selector: undefined }, { clusterIP: 'None', clusterIPs: ['None'], ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] }],
    ['an ExternalName Service', { type: 'ExternalName', externalName: 'db.example.com', selector: undefined }, { clusterIP: undefined, ipFamilies: undefined, ipFamilyPolicy: undefined }],
  ])('stores %s with the families Kubernetes gives it', async (_, spec, want) => {
    const { base } = await start();
    const r = await create(base, svc('web', spec));
    expect(r.status, r.text).toBe(201);
    const absent = Object.keys(want).filter((k) => want[k as keyof typeof want] === undefined);
    expect(r.body.spec).toMatchObject(Object.fromEntries(Object.entries(want).filter(([, v]) => v !== undefined)));
    for (const k of absent) expect(r.body.spec).not.toHaveProperty(k);
  });

  it.each<[string, Service['spec'], string]>([
    ['dual-stack required', { ipFamilyPolicy: 'RequireDualStack' }, 'Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'],
    ['an IPv6 family', { ipFamilies: ['IPv6'] }, 'Service "web" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'],
    ['an IPv6 ClusterIP', { clusterIP: 'fd00::5' }, 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::5"}: IPv6 is not configured on this cluster'],
  ])('refuses %s on this single-stack cluster', async (_, spec, message) => {
    const { base } = await start();
    const r = await create(base, svc('web', spec));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(message);
  });
});

describe('NodePort allocation', () => {
  it('gives every port of a NodePort Service a node port in 30000-32767, one per port number across protocols', async () => {
    const { base } = await start();
    const r = await create(base, svc('web', { type: 'NodePort', ports: [{ name: 'a', port: 53, protocol: 'UDP' }, { name: 'b', port: 53, protocol: 'TCP' }, { name: 'c', port: 80 }] }));
    expect(r.status, r.text).toBe(201);
    const ports = (r.body.spec?.ports ?? []).map((p) => p.nodePort ?? 0);
    ports.forEach((p) => expect(p >= 30000 && p <= 32767).toBe(true));
    expect(ports[0]).toBe(ports[1]);
    expect(ports[2]).not.toBe(ports[0]);
    expect(r.body.spec?.externalTrafficPolicy).toBe('Cluster');
  });

  it.each<[string, number, string]>([
    ['taken', 31000, 'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 31000: provided port is already allocated'],
    ['out of range', 8080, 'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767'],
  ])('refuses a requested node port that is %s', async (_, port, message) => {
    const { base } = await start();
    expect((await create(base, svc('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] }))).status).toBe(201);
    const r = await create(base, svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(message);
    expect((await call(base, 'GET', svcPath('default', 'b'))).status).toBe(404);
  });

  it('releases node ports when the Service becomes ClusterIP, and when it is deleted', async () => {
    const { base } = await start();
    const made = (await create(base, svc('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }] }))).body;
    const toClusterIP = { ...made, spec: { ...made.spec, type: 'ClusterIP' } };
    const r = await call<Service & Status>(base, 'PUT', svcPath('default', 'a'), { body: toClusterIP });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec?.ports?.[0].nodePort).toBeUndefined();
    expect(r.body.spec?.externalTrafficPolicy).toBeUndefined();
    expect((await create(base, svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }] }))).status).toBe(201);
    await call(base, 'DELETE', svcPath('default', 'b'));
    expect((await create(base, svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }] }))).status).toBe(201);
  });

  it('keeps node ports an update leaves out', async () => {
    const { base } = await start();
    const made = (await create(base, svc('a', { type: 'NodePort' }))).body;
    const r = await call<Service & Status>(base, 'PUT', svcPath('default', 'a'), { body: svc('a', { type: 'NodePort' }) });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec?.ports?.[0].nodePort).toBe(made.spec?.ports?.[0].nodePort);
  });

  it('allocates a health-check node port for a LoadBalancer with Local traffic policy', async () => {
    const { base } = await start();
    const r = await create(base, svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    expect(r.status, r.text).toBe(201);
    expect(r.body.spec?.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(r.body.spec?.allocateLoadBalancerNodePorts).toBe(true);
  });
});

describe('the kubernetes Service', () => {
  it('exists at start in default with the first address, port 443 named https, no selector', async () => {
    const { base, server } = await start({ serviceCIDR: '10.110.0.0/16' });
    const r = await call<Service>(base, 'GET', svcPath('default', 'kubernetes'));
    expect(r.status).toBe(200);
    expect(r.body.metadata?.labels).toEqual({ component: 'apiserver', provider: 'kubernetes' });
    expect(r.body.spec).toMatchObject({ type: 'ClusterIP', clusterIP: '10.110.0.1', clusterIPs: ['10.110.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: server.port }] });
    expect(r.body.spec?.selector).toBeUndefined();
  });

  it('comes back within the repair interval when deleted', async () => {
    const { base } = await start({ repairMs: 50 });
    const client = new ApiClient({ server: base, token: TOKEN });
    const before = await client.get<Service>({ ...SERVICES, namespace: 'default' }, 'kubernetes');
    const back = new Promise<Service>((resolve, reject) => {
      const h = client.watch<Service>({ ...SERVICES, namespace: 'default' }, { fieldSelector: 'metadata.name=kubernetes', resourceVersion: before.metadata?.resourceVersion }, (e) => {
        if (e.type === 'ADDED') {
          h.stop();
          resolve(e.object);
        }
      });
      h.done.catch(reject);
    });
    expect((await call(base, 'DELETE', svcPath('default', 'kubernetes'))).status).toBe(200);
    const recreated = await back;
    expect(recreated.spec?.clusterIP).toBe('10.96.0.1');
    expect(recreated.metadata?.uid).not.toBe(before.metadata?.uid);
  });

  it('is repaired at start when someone changed its ports, and recreated when the service CIDR changed', async () => {
    const store = new SqliteStore(':memory:');
    const first = await start({ store });
    const cur = (await call<Service>(first.base, 'GET', svcPath('default', 'kubernetes'))).body;
    const broken = { ...cur, spec: { ...cur.spec, ports: [{ name: 'https', port: 8443, protocol: 'TCP', targetPort: 1 }], selector: { app: 'x' } } };
    expect((await call(first.base, 'PUT', svcPath('default', 'kubernetes'), { body: broken })).status).toBe(200);
    await first.server.close();
    servers.splice(servers.indexOf(first.server), 1);
    const second = await start({ store });
    const repaired = (await call<Service>(second.base, 'GET', svcPath('default', 'kubernetes'))).body;
    expect(repaired.spec?.ports).toEqual([{ name: 'https', port: 443, protocol: 'TCP', targetPort: second.server.port }]);
    expect(repaired.spec?.selector).toBeUndefined();
    await second.server.close();
    servers.splice(servers.indexOf(second.server), 1);
    const third = await start({ store, serviceCIDR: '10.111.0.0/16' });
    const moved = (await call<Service>(third.base, 'GET', svcPath('default', 'kubernetes'))).body;
    expect(moved.spec?.clusterIP).toBe('10.111.0.1');
  });
});
