/**
 * The Services API on a real Docker engine: `expose` gives myapp×3 a ClusterIP from the
 * service CIDR, the endpoints and endpointslice controllers list exactly the ready pods' IPs
 * (compared with the pods' own), the CLI and the stock kubectl print them with kubectl's
 * columns, a failing readiness probe takes a pod out of the ready set within a second, a
 * targetPort name no container declares leaves the Service without endpoints and with a
 * Warning event, user Endpoints of a selector-less Service are kept and mirrored, and bad input
 * is refused with 422 and field paths without storing anything. Traffic through ClusterIPs is
 * the service proxy's e2e (services.e2e.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { inIPv4Net, parseIPv4CIDR } from '../../src/api/ip.js';
import type { Endpoints, EndpointSlice, Event, KubeObject, Pod, Service } from '../../src/api/types.js';
import { ENDPOINTS, ENDPOINTSLICES, EVENTS, PODS, SERVICES, type ResourceRef } from '../../src/client/client.js';
import { readClusterConfig } from '../../src/cli/context.js';
import { ROOT, TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ns = 'default';
const svcRef = { ...SERVICES, namespace: ns };
const epRef = { ...ENDPOINTS, namespace: ns };
const sliceRef = { ...ENDPOINTSLICES, namespace: ns };
const podsRef = { ...PODS, namespace: ns };

const ready = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' &&
  (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const readyIPs = (slices: EndpointSlice[]) =>
  slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready === true).map((e) => e.addresses[0])).sort();

describe.skipIf(!hasDocker)('Services API on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-svca-${process.pid}`, '10.210.0.0/16');
  let serviceCIDR = '10.96.0.0/16';

  /**
   * Waits until `ok` holds for the objects of `ref` matching `labelSelector`: a LIST, then a
   * watch from its resourceVersion (no polling). Resolves with the objects and when it held.
   */
  async function waitForList<T extends KubeObject>(ref: ResourceRef, ok: (items: T[]) => boolean, labelSelector?: string, ms = 90_000): Promise<{ items: T[]; at: number }> {
    const client = cluster.client();
    const list = await client.list<T>(ref, { labelSelector });
    const cache = new Map<string, T>(list.items.map((o) => [o.metadata?.uid ?? '', o]));
    if (ok([...cache.values()])) return { items: [...cache.values()], at: Date.now() };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        h.stop();
        reject(new Error(`timed out waiting on ${ref.resource}: ${JSON.stringify([...cache.values()]).slice(0, 2000)}`));
      }, ms);
      const h = client.watch<T>(ref, { labelSelector, resourceVersion: list.metadata.resourceVersion }, (e) => {
        if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
        if (e.type === 'DELETED') cache.delete(e.object.metadata?.uid ?? '');
        else cache.set(e.object.metadata?.uid ?? '', e.object);
        const items = [...cache.values()];
        if (ok(items)) {
          clearTimeout(timer);
          h.stop();
          resolve({ items, at: Date.now() });
        }
      });
      h.done.catch((err: unknown) => { clearTimeout(timer); reject(err as Error); });
    });
  }

  beforeAll(async () => {
    // `up --service-cidr` comes with the service proxy; use this test's range when it is there.
    const help = await cluster.cli(['up', '--help']);
    const args = ['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR];
    if (help.stdout.includes('--service-cidr')) {
      serviceCIDR = '10.110.0.0/16';
      args.push('--service-cidr', serviceCIDR);
    }
    const r = await cluster.cli(args, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('keeps the kubernetes Service in default on the first address of the service CIDR', async () => {
    const k = await cluster.client().get<Service>(svcRef, 'kubernetes');
    const first = serviceCIDR.replace(/\.0\/\d+$/, '.1');
    expect(k.spec).toMatchObject({ type: 'ClusterIP', clusterIP: first, ports: [{ name: 'https', port: 443, protocol: 'TCP' }] });
    expect(k.spec?.selector).toBeUndefined();
  });

  it('exposes myapp×3 on a ClusterIP whose endpoints are exactly the 3 ready pods\' IPs', async () => {
    expect((await cluster.cli(['apply', '-f', join(ROOT, 'examples/myapp-deployment.yaml')])).code).toBe(0);
    expect((await cluster.cli(['scale', 'deployment', 'myapp', '--replicas=3'])).code).toBe(0);
    const expose = await cluster.cli(['expose', 'deployment', 'myapp', '--port', '80']);
    expect(expose.stdout.trim(), expose.stderr).toBe('service/myapp exposed');
    const svc = await cluster.client().get<Service>(svcRef, 'myapp');
    expect(inIPv4Net(parseIPv4CIDR(serviceCIDR), svc.spec?.clusterIP ?? '')).toBe(true);
    expect(svc.spec).toMatchObject({ selector: { app: 'myapp' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }], ipFamilies: ['IPv4'] });

    const pods = (await waitForList<Pod>(podsRef, (ps) => ps.length === 3 && ps.every(ready), 'app=myapp')).items;
    const podIPs = pods.map((p) => p.status?.podIP ?? '').sort();
    const slices = (await waitForList<EndpointSlice>(sliceRef, (ss) => JSON.stringify(readyIPs(ss)) === JSON.stringify(podIPs), 'kubernetes.io/service-name=myapp')).items;
    expect(slices).toHaveLength(1);
    const slice = slices[0];
    expect(slice.metadata?.labels).toMatchObject({ 'kubernetes.io/service-name': 'myapp', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'myapp', uid: svc.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: '', port: 80, protocol: 'TCP' }]);
    for (const e of slice.endpoints) {
      const pod = pods.find((p) => p.status?.podIP === e.addresses[0]);
      expect(e).toMatchObject({ conditions: { ready: true, serving: true, terminating: false }, nodeName: pod?.spec?.nodeName, targetRef: { kind: 'Pod', name: pod?.metadata?.name, uid: pod?.metadata?.uid } });
    }
    const ep = (await waitForList<Endpoints>(epRef, (es) => es.some((e) => e.metadata?.name === 'myapp' &&
      JSON.stringify((e.subsets?.[0]?.addresses ?? []).map((a) => a.ip).sort()) === JSON.stringify(podIPs)))).items.find((e) => e.metadata?.name === 'myapp');
    expect(ep?.subsets).toHaveLength(1);
    expect(ep?.subsets?.[0].ports).toEqual([{ port: 80, protocol: 'TCP' }]);

    const get = await cluster.cli(['get', 'svc,ep,endpointslices', '-o', 'wide']);
    expect(get.code, get.stderr).toBe(0);
    const sorted = [...podIPs].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    expect(get.stdout).toMatch(new RegExp(`^NAME\\s+TYPE\\s+CLUSTER-IP\\s+EXTERNAL-IP\\s+PORT\\(S\\)\\s+AGE\\s+SELECTOR$`, 'm'));
    expect(get.stdout).toMatch(new RegExp(`^service/myapp\\s+ClusterIP\\s+${svc.spec?.clusterIP?.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s+\\S+\\s+app=myapp$`, 'm'));
    expect(get.stdout).toMatch(/^NAME\s+ENDPOINTS\s+AGE$/m);
    expect(get.stdout).toMatch(new RegExp(`^endpoints/myapp\\s+${sorted.map((ip) => `${ip}:80`).join(',').replace(/\./g, '\\.')}\\s+\\S+$`, 'm'));
    expect(get.stdout).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/m);
    expect(get.stdout).toMatch(new RegExp(`^endpointslice\\.discovery\\.k8s\\.io/${slice.metadata?.name}\\s+IPv4\\s+80\\s+${sorted.join(',').replace(/\./g, '\\.')}\\s`, 'm'));
    console.log(get.stdout);

    const describe = await cluster.cli(['describe', 'svc', 'myapp']);
    expect(describe.stdout).toMatch(new RegExp(`^Endpoints:\\s+${sorted.map((ip) => `${ip}:80`).join(',').replace(/\./g, '\\.')}$`, 'm'));
  }, 180_000);

  it.skipIf(!existsSync('/usr/bin/kubectl'))('shows the same to the stock kubectl (skipped: /usr/bin/kubectl is not installed)', async () => {
    const kubeconfig = readClusterConfig(cluster.home, cluster.name)?.kubeconfig ?? '';
    const r = await sh('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, 'get', 'svc,ep,endpointslices', '-o', 'wide']);
    expect(r.code, r.stderr).toBe(0);
    const svc = await cluster.client().get<Service>(svcRef, 'myapp');
    expect(r.stdout).toMatch(new RegExp(`^service/myapp\\s+ClusterIP\\s+${svc.spec?.clusterIP?.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s+\\S+\\s+app=myapp$`, 'm'));
    expect(r.stdout).toMatch(/^endpoints\/myapp\s+(\d+\.\d+\.\d+\.\d+:80,){2}\d+\.\d+\.\d+\.\d+:80\s+\S+$/m);
    expect(r.stdout).toMatch(/^endpointslice\.discovery\.k8s\.io\/myapp-\w+\s+IPv4\s+80\s+(\d+\.\d+\.\d+\.\d+,){2}\d+\.\d+\.\d+\.\d+\s+\S+$/m);
    console.log(r.stdout);
    // kubectl's own expose and describe (it reads the EndpointSlices itself).
    const kc = (args: string[]) => sh('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args]);
    const exposed = await kc(['expose', 'deployment', 'myapp', '--port', '8080', '--target-port', '80', '--name', 'myapp-k']);
    expect(exposed.stdout.trim(), exposed.stderr).toBe('service/myapp-k exposed');
    const ips = (await cluster.client().list<Pod>(podsRef, { labelSelector: 'app=myapp' })).items.map((p) => p.status?.podIP ?? '').sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    await waitForList<EndpointSlice>(sliceRef, (ss) => readyIPs(ss).length === 3, 'kubernetes.io/service-name=myapp-k');
    const d = await kc(['describe', 'svc', 'myapp-k']);
    expect(d.stdout).toMatch(/^Port:\s+<unset>\s+8080\/TCP$/m);
    expect(d.stdout).toMatch(new RegExp(`^Endpoints:\\s+${ips.map((ip) => `${ip}:80`).join(',').replace(/\./g, '\\.')}$`, 'm'));
    expect((await kc(['delete', 'svc', 'myapp-k'])).code).toBe(0);
  }, 60_000);

  it('takes a pod whose readiness probe fails out of the ready endpoints within a second', async () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: probe
  labels: {app: probe}
spec:
  containers:
  - name: web
    image: nginx:latest
    ports: [{name: web, containerPort: 80}]
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: probe}
spec:
  selector: {app: probe}
  ports: [{name: http, port: 8080, targetPort: web}]
`;
    expect((await cluster.cli(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    const running = await cluster.waitForPod('probe', (p) => p.status?.phase === 'Running' && !!p.status.podIP);
    const ip = running.status?.podIP ?? '';
    const unready = await waitForList<EndpointSlice>(sliceRef, (ss) => ss.some((s) => (s.endpoints ?? []).some((e) => e.addresses[0] === ip && e.conditions?.ready === false)), 'kubernetes.io/service-name=probe');
    // The named targetPort resolves to the container's port 80.
    expect(unready.items.find((s) => s.endpoints.length)?.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP' }]);
    expect((await cluster.cli(['exec', 'probe', '--', 'touch', '/tmp/ready'])).code).toBe(0);
    await waitForList<EndpointSlice>(sliceRef, (ss) => JSON.stringify(readyIPs(ss)) === JSON.stringify([ip]), 'kubernetes.io/service-name=probe');

    // Fail the probe; time from the kubelet's Ready=False to the slice's ready=false.
    const podUnready = waitForList<Pod>(podsRef, (ps) => ps.some((p) => p.metadata?.name === 'probe' && !ready(p)), 'app=probe');
    const sliceUnready = waitForList<EndpointSlice>(sliceRef, (ss) => readyIPs(ss).length === 0 && ss.some((s) => s.endpoints.length > 0), 'kubernetes.io/service-name=probe');
    expect((await cluster.cli(['exec', 'probe', '--', 'rm', '/tmp/ready'])).code).toBe(0);
    const [p, s] = await Promise.all([podUnready, sliceUnready]);
    const latency = s.at - p.at;
    console.log(`pod Ready=False seen → EndpointSlice ready=false seen: ${latency} ms`);
    expect(latency).toBeLessThan(1000);
    const eps = await waitForList<Endpoints>(epRef, (es) => es.some((e) => e.metadata?.name === 'probe' && (e.subsets?.[0]?.notReadyAddresses ?? []).some((a) => a.ip === ip)));
    expect(eps.items.find((e) => e.metadata?.name === 'probe')?.subsets?.[0]?.addresses).toBeUndefined();
    await cluster.cli(['delete', 'pod', 'probe', '--grace-period=0', '--force']);
  }, 120_000);

  it('gives a Service whose targetPort name no container declares no endpoints and a Warning event', async () => {
    const manifest = `apiVersion: v1
kind: Service
metadata: {name: noport}
spec:
  selector: {app: myapp}
  ports: [{name: http, port: 80, targetPort: nope}]
`;
    const r = await cluster.cli(['apply', '-f', '-'], { input: manifest });
    expect(r.stdout.trim(), r.stderr).toBe('service/noport created');
    const ev = await waitForList<Event & KubeObject>({ ...EVENTS, namespace: ns }, (es) => es.some((e) => e.involvedObject.name === 'noport' && e.type === 'Warning'));
    const warning = ev.items.find((e) => e.involvedObject.name === 'noport');
    expect(warning?.reason).toBe('FailedToResolvePort');
    expect(warning?.message).toContain('"nope"');
    const ep = await cluster.client().get<Endpoints>(epRef, 'noport');
    expect(ep.subsets ?? []).toEqual([]);
    const get = await cluster.cli(['get', 'ep', 'noport']);
    expect(get.stdout).toMatch(/^noport\s+<none>\s+\S+$/m);
  }, 60_000);

  it('keeps user-written Endpoints of a selector-less Service and mirrors them into an EndpointSlice', async () => {
    const manifest = `apiVersion: v1
kind: Service
metadata: {name: external}
spec:
  ports: [{name: db, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: external}
subsets:
- addresses: [{ip: 10.210.99.9}]
  ports: [{name: db, port: 5432}]
`;
    expect((await cluster.cli(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    const mirrored = await waitForList<EndpointSlice>(sliceRef, (ss) => ss.length === 1, 'kubernetes.io/service-name=external');
    expect(mirrored.items[0].metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslicemirroring-controller.k8s.io');
    expect(mirrored.items[0].endpoints.map((e) => e.addresses[0])).toEqual(['10.210.99.9']);
    const ep = await cluster.client().get<Endpoints>(epRef, 'external');
    expect(ep.subsets).toEqual([{ addresses: [{ ip: '10.210.99.9' }], ports: [{ name: 'db', port: 5432, protocol: 'TCP' }] }]);
  }, 60_000);

  it.each<[string, Service['spec'], string[]]>([
    ['duplicate ports', { selector: { app: 'x' }, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }, ['spec.ports[1]']],
    ['two unnamed ports', { selector: { app: 'x' }, ports: [{ port: 80 }, { port: 81 }] }, ['spec.ports[0].name', 'spec.ports[1].name']],
    ['a port out of range (its defaulted targetPort too)', { selector: { app: 'x' }, ports: [{ port: 0 }] }, ['spec.ports[0].port', 'spec.ports[0].targetPort']],
    ['a bad protocol', { selector: { app: 'x' }, ports: [{ port: 80, protocol: 'HTTP' }] }, ['spec.ports[0].protocol']],
    ['a bad selector label', { selector: { app: 'not ok' }, ports: [{ port: 80 }] }, ['spec.selector']],
    ['a ClusterIP outside the range', { selector: { app: 'x' }, clusterIP: '192.168.7.7', ports: [{ port: 80 }] }, ['spec.clusterIPs']],
    ['the kubernetes Service\'s ClusterIP', { selector: { app: 'x' }, clusterIP: 'FIRST', ports: [{ port: 80 }] }, ['spec.clusterIPs']],
    ['a NodePort out of range', { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: 8080 }] }, ['spec.ports[0].nodePort']],
    ['an ExternalName that is no DNS name', { type: 'ExternalName', externalName: 'no_dns' }, ['spec.externalName']],
  ])('refuses %s with 422 and its field path, storing nothing', async (_, spec, fields) => {
    const first = serviceCIDR.replace(/\.0\/\d+$/, '.1');
    const body: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad', namespace: ns }, spec: { ...spec, ...(spec?.clusterIP === 'FIRST' ? { clusterIP: first } : {}) } };
    const err = await cluster.client().create(svcRef, body).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(422);
    expect((err as ApiError).causes.map((c) => c.field)).toEqual(fields);
    await expect(cluster.client().get(svcRef, 'bad')).rejects.toMatchObject({ code: 404 });
  });

  it('refuses a NodePort another Service holds, naming it as Kubernetes does', async () => {
    const np = await cluster.cli(['expose', 'deployment', 'myapp', '--port', '80', '--type', 'NodePort', '--name', 'myapp-np']);
    expect(np.stdout.trim(), np.stderr).toBe('service/myapp-np exposed');
    const taken = (await cluster.client().get<Service>(svcRef, 'myapp-np')).spec?.ports?.[0].nodePort ?? 0;
    expect(taken).toBeGreaterThanOrEqual(30000);
    expect(taken).toBeLessThanOrEqual(32767);
    const manifest = `apiVersion: v1
kind: Service
metadata: {name: clash}
spec:
  type: NodePort
  selector: {app: myapp}
  ports: [{port: 80, nodePort: ${taken}}]
`;
    const r = await cluster.cli(['apply', '-f', '-'], { input: manifest });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`spec.ports[0].nodePort: Invalid value: ${taken}: provided port is already allocated`);
  }, 60_000);
});
