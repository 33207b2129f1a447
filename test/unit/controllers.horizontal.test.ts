/**
 * The horizontal pod autoscaler against a real API server (in-memory store, real HTTP), the
 * Deployment and ReplicaSet controllers, the scheduler and a kubelet over FakeRuntime whose
 * containers burn CPU on demand: the metrics travel kubelet `/stats/summary` → metrics.k8s.io →
 * controller, and the scale goes through the Deployment's `scale` subresource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { KubeObject } from '../../src/api/types.js';
import { LABEL_CONTAINER_NAME } from '../../src/api/types.js';
import { DEPLOYMENTS } from '../../src/controllers/types.js';
import { HPAS } from '../../src/controllers/horizontal.js';
import { startControllers, type ControllerManager } from '../../src/controllers/manager.js';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { FakeRuntime } from '../../src/runtime/fake.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { NS, TOKEN, deploymentManifest, startTestCluster, type TestCluster } from './controllers.fixtures.js';
import type { Informer } from '../../src/client/informer.js';

type HPA = HorizontalPodAutoscaler & KubeObject;

let c: TestCluster;
let manager: ControllerManager;
let scheduler: Scheduler;
let kubelet: Kubelet;
let hpas: Informer<HPA>;
const runtime = new FakeRuntime();
let burnCores = 0;
let burner: NodeJS.Timeout | undefined;

/** Makes every running app container burn `burnCores` (new ones included, re-applied every 100 ms). */
async function applyBurn(): Promise<void> {
  for (const ct of await runtime.listContainers({})) {
    if (ct.state === 'running' && ct.labels[LABEL_CONTAINER_NAME]) {
      try {
        runtime.setUsage(ct.id, burnCores, 4 << 20);
      } catch {
        // removed between the listing and now: nothing to burn
      }
    }
  }
}

beforeAll(async () => {
  c = await startTestCluster();
  runtime.addImage('registry.k8s.io/pause:3.10');
  kubelet = new Kubelet({
    client: c.client, runtime, cluster: 'hpa-test', nodeName: 'node-1', podCIDR: '10.244.1.0/24', token: TOKEN,
    address: '127.0.0.1', heartbeatMs: 500, resyncMs: 1000, capacity: { cpu: '8', memory: '16Gi', pods: '110' },
    log: (m) => c.log(`kubelet ${m}`),
  });
  await kubelet.start();
  scheduler = new Scheduler({ client: c.client, log: c.log, backoff: { initialMs: 100, maxMs: 500 } });
  await scheduler.start();
  manager = await startControllers({ client: c.client, log: c.log, hpaSyncPeriodMs: 300, hpaDownscaleStabilizationMs: 1500 });
  hpas = await c.follow<HPA>({ ...HPAS, namespace: NS });
  burner = setInterval(() => void applyBurn(), 100);
});

afterAll(async () => {
  clearInterval(burner);
  await manager?.stop();
  await scheduler?.stop();
  await kubelet?.stop();
  await c?.close();
});

describe('the horizontal pod autoscaler with a FakeRuntime kubelet', () => {
  it('scales a busy Deployment up by its CPU utilisation, and back down when the load stops', async () => {
    const d = deploymentManifest('busy', { replicas: 1 });
    d.spec!.template.spec!.containers[0].resources = { requests: { cpu: '100m' } };
    await c.client.create({ ...DEPLOYMENTS, namespace: NS }, d);
    burnCores = 0.3;
    await c.client.create({ ...HPAS, namespace: NS }, {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'busy' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'busy' }, minReplicas: 1, maxReplicas: 4,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    } as HPA);
    // 300% of a 50% target: the recommendation is 6, bounded by maxReplicas 4.
    const up = await c.until('the HPA to scale to 4', () => {
      const h = hpas.get(`${NS}/busy`);
      return (h?.status?.desiredReplicas ?? 0) >= 4 ? h : undefined;
    }, 20_000);
    expect(c.deployments.get(`${NS}/busy`)?.spec?.replicas).toBe(4);
    expect(up.status?.conditions?.find((x) => x.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(up.status?.currentMetrics?.[0].resource?.current.averageUtilization).toBeGreaterThan(100);
    const limited = await c.until('ScalingLimited TooManyReplicas', () => {
      const h = hpas.get(`${NS}/busy`);
      return h?.status?.conditions?.find((x) => x.type === 'ScalingLimited' && x.reason === 'TooManyReplicas') ? h : undefined;
    }, 20_000);
    expect(limited.status?.conditions?.find((x) => x.type === 'ScalingLimited')?.status).toBe('True');

    burnCores = 0;
    const down = await c.until('the HPA to scale back to 1', () => {
      const h = hpas.get(`${NS}/busy`);
      return h?.status?.desiredReplicas === 1 && c.deployments.get(`${NS}/busy`)?.spec?.replicas === 1 ? h : undefined;
    }, 30_000);
    expect(down.status?.lastScaleTime).toBeDefined();
    const events = (await c.client.list<KubeObject & { reason?: string; message?: string }>({ group: '', version: 'v1', resource: 'events', namespace: NS })).items
      .filter((e) => e.reason === 'SuccessfulRescale').map((e) => e.message);
    expect(events).toContain('New size: 4; reason: cpu resource utilization (percentage of request) above target');
    expect(events).toContain('New size: 1; reason: All metrics below target');
  }, 60_000);

  it('scales a ReplicationController on an AverageValue memory target through its scale subresource', async () => {
    await c.client.create({ group: '', version: 'v1', resource: 'replicationcontrollers', namespace: NS }, {
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'mem' },
      spec: { replicas: 1, selector: { app: 'mem' }, template: { metadata: { labels: { app: 'mem' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'nginx:1', resources: { requests: { memory: '1Mi' } } }] } } },
    } as KubeObject);
    // Every container holds 4 MiB (applyBurn): twice the 2 MiB target per pod.
    await c.client.create({ ...HPAS, namespace: NS }, {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'mem' },
      spec: { scaleTargetRef: { apiVersion: 'v1', kind: 'ReplicationController', name: 'mem' }, maxReplicas: 2,
        metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '2Mi' } } }] },
    } as HPA);
    const h = await c.until('the RC HPA to scale to 2', () => {
      const x = hpas.get(`${NS}/mem`);
      return x?.status?.desiredReplicas === 2 ? x : undefined;
    }, 20_000);
    expect(h.status?.currentMetrics?.[0]).toEqual({ type: 'Resource', resource: { name: 'memory', current: { averageValue: '4194304' } } });
    const rc = await c.client.get<KubeObject & { spec?: { replicas?: number } }>({ group: '', version: 'v1', resource: 'replicationcontrollers', namespace: NS }, 'mem');
    expect(rc.spec?.replicas).toBe(2);
  }, 30_000);

  it('reports a target without a scale subresource as AbleToScale False', async () => {
    await c.client.create({ ...HPAS, namespace: NS }, {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'nothing' },
      spec: { scaleTargetRef: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }, maxReplicas: 2 },
    } as HPA);
    const h = await c.until('FailedGetScale', () => {
      const x = hpas.get(`${NS}/nothing`);
      return x?.status?.conditions?.find((k) => k.type === 'AbleToScale' && k.reason === 'FailedGetScale') ? x : undefined;
    });
    expect(h.status?.conditions?.[0].message).toContain('the HPA controller was unable to get the target\'s current scale');
  });

  it('serves metrics.k8s.io from the kubelet: discovery, node and pod metrics, selectors, 404s', async () => {
    const groups = await c.client.request<{ groups: { name: string; preferredVersion: { version: string } }[] }>('GET', '/apis');
    expect(groups.groups.find((g) => g.name === 'metrics.k8s.io')?.preferredVersion.version).toBe('v1beta1');
    expect(groups.groups.find((g) => g.name === 'autoscaling')?.preferredVersion.version).toBe('v2');
    const nodes = await c.client.request<{ items: { metadata: { name: string }; usage: { cpu: string; memory: string } }[] }>('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
    expect(nodes.items.map((n) => n.metadata.name)).toEqual(['node-1']);
    expect(nodes.items[0].usage.memory).toMatch(/^\d+/);
    const pods = await c.client.request<{ kind: string; items: { metadata: { name: string; labels: Record<string, string> } }[] }>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dbusy');
    expect(pods.kind).toBe('PodMetricsList');
    expect(pods.items.length).toBeGreaterThanOrEqual(1);
    expect(pods.items.every((p) => p.metadata.labels.app === 'busy')).toBe(true);
    const none = await c.client.request<{ items: unknown[] }>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dnothing');
    expect(none.items).toEqual([]);
    await expect(c.client.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/ghost')).rejects.toThrow('podmetrics.metrics.k8s.io "default/ghost" not found');
    await expect(c.client.request('DELETE', '/apis/metrics.k8s.io/v1beta1/nodes/node-1')).rejects.toMatchObject({ code: 405 });
    // Content negotiation: protobuf when asked first (client-go's default for built-in groups), JSON otherwise.
    const ask = (accept: string) => fetch(`${c.server.url}/apis/metrics.k8s.io/v1beta1/nodes`, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: accept } });
    const pb = await ask('application/vnd.kubernetes.protobuf, application/json');
    expect(pb.headers.get('content-type')).toBe('application/vnd.kubernetes.protobuf');
    expect(Buffer.from(await pb.arrayBuffer()).subarray(0, 4)).toEqual(Buffer.from([0x6b, 0x38, 0x73, 0x00]));
    const json = await ask('application/json, */*');
    expect(json.headers.get('content-type')).toBe('application/json');
    expect((await json.json() as { kind: string }).kind).toBe('NodeMetricsList');
  });

  it('serves the same HPA as autoscaling/v1, converting both ways and keeping v2-only fields', async () => {
    const v1ref = { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers', namespace: NS };
    await c.client.create(v1ref, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'old' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'busy' }, maxReplicas: 3, targetCPUUtilizationPercentage: 70 } } as KubeObject);
    const v2 = await c.client.get<HPA>({ ...HPAS, namespace: NS }, 'old');
    expect(v2.spec?.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(v2.spec?.minReplicas).toBe(1);
    await c.client.patch<HPA>({ ...HPAS, namespace: NS }, 'old', { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 5, policies: [{ type: 'Pods', value: 1, periodSeconds: 10 }] } } } });
    const patched = await c.client.patch<KubeObject & { spec: { maxReplicas: number; targetCPUUtilizationPercentage: number } }>(v1ref, 'old', { spec: { maxReplicas: 4 } });
    expect(patched.apiVersion).toBe('autoscaling/v1');
    expect(patched.spec).toMatchObject({ maxReplicas: 4, targetCPUUtilizationPercentage: 70 });
    const after = await c.client.get<HPA>({ ...HPAS, namespace: NS }, 'old');
    expect(after.spec?.maxReplicas).toBe(4);
    expect(after.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(5);
    expect(after.metadata?.annotations).toBeUndefined();
    const list = await c.client.list<KubeObject>(v1ref);
    expect(list.items.every((i) => i.apiVersion === 'autoscaling/v1')).toBe(true);
    await expect(c.client.create(v1ref, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'busy' }, minReplicas: 0, maxReplicas: 1 } } as KubeObject))
      .rejects.toThrow('HorizontalPodAutoscaler.autoscaling "bad" is invalid: spec.minReplicas: Invalid value: 0: must be greater than or equal to 1');
    await expect(c.client.create({ ...HPAS, namespace: NS }, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'huge' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'busy' }, maxReplicas: 2 ** 31 } } as HPA)).rejects.toMatchObject({ code: 400 });
    const res = await fetch(`${c.server.url}/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers`, {
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    const table = await res.json() as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.columnDefinitions.map((d) => d.name)).toEqual(['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
    expect(table.rows.find((r) => r.cells[0] === 'old')?.cells.slice(1, 5)).toEqual(['Deployment/busy', expect.stringMatching(/^cpu: .*\/70%$/), 1, 4]);
  });
});
