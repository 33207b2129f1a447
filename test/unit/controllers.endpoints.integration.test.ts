/**
 * The endpoints, endpointslice and mirroring controllers (through `startControllers`) against an
 * in-process API server, with pods whose status the test writes as a kubelet would: the ready
 * set follows readiness within a second, named target ports resolve per pod, slices hold 100
 * endpoints at most, a Service's Endpoints and slices go with it, user Endpoints of a
 * selector-less Service are kept and mirrored, and an undeclared target port name gives a
 * Warning event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints, EndpointSlice, Event, KubeObject, Pod, Service } from '../../src/api/types.js';
import { ENDPOINTS, ENDPOINTSLICES, EVENTS, PODS, SERVICES } from '../../src/client/client.js';
import type { Informer } from '../../src/client/informer.js';
import { startControllers, type ControllerManager } from '../../src/controllers/manager.js';
import { NS, startTestCluster, type TestCluster } from './controllers.fixtures.js';

const at = <T extends { namespace?: string }>(ref: T) => ({ ...ref, namespace: NS });

let c: TestCluster;
let manager: ControllerManager;
let slices: Informer<EndpointSlice & KubeObject>;
let endpoints: Informer<Endpoints & KubeObject>;
let events: Informer<Event & KubeObject>;

beforeAll(async () => {
  c = await startTestCluster();
  slices = await c.follow(ENDPOINTSLICES);
  endpoints = await c.follow(ENDPOINTS);
  events = await c.follow(at(EVENTS));
  manager = await startControllers({ client: c.client, log: c.log });
});

afterAll(async () => {
  await manager?.stop();
  await c?.close();
});

async function makePod(name: string, ip: string, o: { app?: string; ready?: boolean; port?: number } = {}): Promise<Pod> {
  const pod = await c.client.create<Pod & KubeObject>(at(PODS), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: o.app ?? 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
  });
  return setReady(pod, o.ready ?? true, ip);
}

/** Writes the pod's status as its kubelet would: Running, with an IP and a Ready condition. */
async function setReady(pod: Pod, ready: boolean, ip = pod.status?.podIP ?? ''): Promise<Pod> {
  const cur = await c.client.get<Pod & KubeObject>(at(PODS), pod.metadata?.name ?? '');
  return c.client.updateStatus<Pod & KubeObject>(at(PODS), {
    ...cur, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
}

const slicesOf = (svc: string) => slices.list().filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === svc);
const readyIPs = (svc: string) => slicesOf(svc).flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).map((e) => e.addresses[0])).sort();

describe('the endpoint controllers against an API server', () => {
  it('list the ready pods under the resolved named port, and follow readiness within a second', async () => {
    await c.client.create<Service & KubeObject>(at(SERVICES), { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    await makePod('web-1', '10.244.1.11');
    await makePod('web-2', '10.244.1.12');
    const third = await makePod('web-3', '10.244.2.13', { port: 9090 });
    await c.until('3 ready endpoints', () => readyIPs('web').length === 3);
    expect(slicesOf('web').map((s) => [s.ports, s.endpoints.map((e) => e.addresses[0])]).sort()).toEqual([
      [[{ name: 'http', port: 8080, protocol: 'TCP' }], ['10.244.1.11', '10.244.1.12']],
      [[{ name: 'http', port: 9090, protocol: 'TCP' }], ['10.244.2.13']],
    ]);
    const ep = await c.until('Endpoints', () => endpoints.get(`${NS}/web`)?.subsets?.length === 2 && endpoints.get(`${NS}/web`));
    expect(ep.subsets?.map((s) => [s.ports?.[0].port, (s.addresses ?? []).map((a) => a.ip)])).toEqual([[8080, ['10.244.1.11', '10.244.1.12']], [9090, ['10.244.2.13']]]);

    const t0 = Date.now();
    await setReady(third, false);
    await c.until('web-3 unready', () => readyIPs('web').length === 2);
    const ms = Date.now() - t0;
    console.log(`endpointslice controller: pod status Ready=False written → slice ready=false seen in ${ms} ms`);
    // Watch-driven (the resync is minutes): seconds, not milliseconds, would mean a missed event.
    expect(ms).toBeLessThan(5000);
    await c.until('Endpoints notReadyAddresses', () => endpoints.get(`${NS}/web`)?.subsets?.some((s) => s.notReadyAddresses?.[0]?.ip === '10.244.2.13'));

    await c.client.delete(at(PODS), 'web-1', { gracePeriodSeconds: 0 });
    await c.until('web-1 gone', () => JSON.stringify(readyIPs('web')) === JSON.stringify(['10.244.1.12']));
  });

  it('put at most 100 endpoints in a slice', async () => {
    await c.client.create<Service & KubeObject>(at(SERVICES), { metadata: { name: 'many' }, spec: { selector: { app: 'many' }, ports: [{ port: 80 }] } });
    const pods = Array.from({ length: 120 }, (_, i) => `10.244.3.${i + 1}`);
    for (let i = 0; i < pods.length; i += 20) {
      await Promise.all(pods.slice(i, i + 20).map((ip, j) => makePod(`many-${i + j}`, ip, { app: 'many' })));
    }
    await c.until('120 ready endpoints', () => readyIPs('many').length === 120, 20_000);
    expect(slicesOf('many').map((s) => s.endpoints.length).sort((a, b) => b - a)).toEqual([100, 20]);
  }, 30_000);

  it('delete a Service\'s Endpoints and slices with it', async () => {
    await c.client.delete(at(SERVICES), 'many');
    await c.until('no slices and no Endpoints of many', () => slicesOf('many').length === 0 && !endpoints.get(`${NS}/many`));
  }, 15_000);

  it('keep a selector-less Service\'s Endpoints and mirror them', async () => {
    await c.client.create<Service & KubeObject>(at(SERVICES), { metadata: { name: 'ext' }, spec: { ports: [{ name: 'db', port: 5432 }] } });
    const written = await c.client.create<Endpoints & KubeObject>(at(ENDPOINTS), {
      metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '10.244.9.9' }], ports: [{ name: 'db', port: 5432 }] }],
    });
    const mirrored = await c.until('mirrored slice', () => slicesOf('ext')[0]);
    expect(mirrored.metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslicemirroring-controller.k8s.io');
    expect(mirrored.endpoints).toEqual([{ addresses: ['10.244.9.9'], conditions: { ready: true } }]);
    expect((await c.client.get<Endpoints & KubeObject>(at(ENDPOINTS), 'ext')).metadata?.resourceVersion).toBe(written.metadata?.resourceVersion);
  });

  it('warn once about a target port name no selected pod declares, listing no endpoints for it', async () => {
    await c.client.create<Service & KubeObject>(at(SERVICES), { metadata: { name: 'noport' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'nope' }] } });
    const ev = await c.until('FailedToResolvePort', () => events.list().find((e) => e.involvedObject.name === 'noport'));
      expect(ev).toMatchObject({ type: 'Warning', reason: 'FailedToResolvePort', involvedObject: { kind: 'Service', name: 'noport' } });
      expect(ev.message).toBe('targetPort "nope" of service port (80/TCP) matches no container port of pods web-2, web-3');
    const ep = await c.until('noport Endpoints', () => endpoints.get(`${NS}/noport`));
    expect(ep.subsets ?? []).toEqual([]);
  });
});
