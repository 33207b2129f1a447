/**
 * HorizontalPodAutoscaler API and metrics pieces, without a cluster: defaults, validation with
 * field paths, the v1 ⇄ v2 conversion, the printed columns, the kubelet's summary and its
 * sample cache over the fake runtime and a test clock, and the controller's per-metric arithmetic.
 */
import { describe, expect, it } from 'vitest';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { HorizontalPodAutoscaler as HPAv1 } from 'kubernetes-types/autoscaling/v1.js';
import { applyHpaDefaults, hpaFromV1, hpaToV1 } from '../../src/api/autoscaling.js';
import { hpaWarnings, validateHorizontalPodAutoscaler } from '../../src/api/autoscalingvalidation.js';
import { hpaRow, hpaTargets } from '../../src/api/autoscalingstatus.js';
import { nodeMetrics, podMetrics, usageOf } from '../../src/apiserver/metrics.js';
import { SampleCache, StatsProvider, cpuRate } from '../../src/kubelet/stats.js';
import { FakeRuntime } from '../../src/runtime/fake.js';
import { LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, type Pod } from '../../src/api/types.js';
import { planHorizontal, resourceMetricReplicas, setCondition, type MetricResult, type PodMetricsItem } from '../../src/controllers/horizontal.js';
import { withDefaultBehavior } from '../../src/controllers/hpaplan.js';
import { averageValueReplicas, decideReplicasWithoutBehavior, sampleTrusted } from '../../src/controllers/hpaplan.js';
import { nodeTable, podTable } from '../../src/cli/commands/top.js';
import { autoscaleObject } from '../../src/cli/commands/autoscale.js';
import { decodeProtobuf, encodeProtobuf } from '../../src/apiserver/protobuf.js';
import { readFileSync } from 'node:fs';
import { loadYamlDocuments } from '../../src/api/yaml.js';
import { findKind } from '../../src/api/registry.js';
import type { KubeObject } from '../../src/api/types.js';

const hpa = (spec: Partial<NonNullable<HorizontalPodAutoscaler['spec']>>): HorizontalPodAutoscaler => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec },
});
const cpu = (n: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: n } } });

describe('HorizontalPodAutoscaler defaults', () => {
  it('sets minReplicas 1 and an 80% CPU target when no metric is named', () => {
    const h = hpa({});
    applyHpaDefaults(h);
    expect(h.spec?.minReplicas).toBe(1);
    expect(h.spec?.metrics).toEqual([cpu(80)]);
    expect(h.spec?.behavior).toBeUndefined();
  });
  it('fills a given behavior as autoscaling/v2 does, leaving the scale-down window to the controller', () => {
    const h = hpa({ behavior: { scaleDown: { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } });
    applyHpaDefaults(h);
    expect(h.spec?.behavior?.scaleUp).toEqual({ stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
    expect(h.spec?.behavior?.scaleDown).toEqual({ selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] });
  });
});

describe('HorizontalPodAutoscaler validation', () => {
  it.each([
    ['minReplicas 0', { minReplicas: 0 }, 'spec.minReplicas', 'Invalid value: 0: must be greater than or equal to 1'],
    ['maxReplicas below minReplicas', { minReplicas: 3, maxReplicas: 2 }, 'spec.maxReplicas', 'must be greater than or equal to `minReplicas`'],
    ['maxReplicas 0', { maxReplicas: 0 }, 'spec.maxReplicas', 'must be greater than 0'],
    ['no target kind', { scaleTargetRef: { kind: '', name: 'web' } }, 'spec.scaleTargetRef.kind', 'Required value'],
    ['a target name with a slash', { scaleTargetRef: { kind: 'Deployment', name: 'a/b' } }, 'spec.scaleTargetRef.name', "may not contain '/'"],
    ['an unknown metric type', { metrics: [{ type: 'Magic' }] }, 'spec.metrics[0].type', 'Unsupported value: "Magic"'],
    ['a metric without its source', { metrics: [{ type: 'Resource' }] }, 'spec.metrics[0].resource', 'must populate information for the given metric source'],
    ['a utilization of 0', { metrics: [cpu(0)] }, 'spec.metrics[0].resource.target.averageUtilization', 'must be greater than 0'],
    ['a Value target on a resource', { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Value', value: '1' } } }] }, 'spec.metrics[0].resource.target.type', 'Unsupported value: "Value"'],
    ['a policy period over 1800 s', { behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 1801 }] } } }, 'spec.behavior.scaleUp.policies[0].periodSeconds', 'must be less than or equal to 1800'],
    ['a window over an hour', { behavior: { scaleDown: { stabilizationWindowSeconds: 3601, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } }, 'spec.behavior.scaleDown.stabilizationWindowSeconds', 'must be less than or equal to 3600'],
    ['an unknown select policy', { behavior: { scaleUp: { selectPolicy: 'Avg', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } }, 'spec.behavior.scaleUp.selectPolicy', 'Unsupported value: "Avg"'],
  ])('refuses %s', (_n, spec, field, message) => {
    const errs = validateHorizontalPodAutoscaler(hpa(spec as Partial<NonNullable<HorizontalPodAutoscaler['spec']>>));
    expect(errs.find((e) => e.field === field)?.message, JSON.stringify(errs)).toContain(message);
  });
  it('accepts a defaulted HPA', () => {
    const h = hpa({});
    applyHpaDefaults(h);
    expect(validateHorizontalPodAutoscaler(h)).toEqual([]);
  });
  it('warns about the 1.33 per-direction tolerance, which it does not honour', () => {
    const h = hpa({ behavior: { scaleUp: { tolerance: '0.05', policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }] } as never } });
    expect(hpaWarnings(h)).toEqual([expect.stringContaining('spec.behavior.scaleUp.tolerance: not honoured')]);
  });
  it('warns about metrics no API here serves', () => {
    const w = hpaWarnings(hpa({ metrics: [{ type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '1' } } }, cpu(50)] }));
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('spec.metrics[0].type: Pods metrics come from the custom.metrics.k8s.io API');
  });
});

describe('autoscaling/v1 conversion', () => {
  it('maps targetCPUUtilizationPercentage to a v2 cpu Utilization metric and back', () => {
    const v1: HPAv1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } };
    const v2 = hpaFromV1(v1);
    expect(v2.spec?.metrics).toEqual([cpu(60)]);
    expect(hpaToV1(v2)).toEqual(v1);
  });
  it('keeps what v1 cannot say in annotations, so a v1 round trip loses nothing', () => {
    const mem = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
    const v2 = hpa({ minReplicas: 2, metrics: [cpu(50), mem], behavior: { scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }] } } });
    v2.status = { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 70 } } }],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' }] };
    const v1 = hpaToV1(v2);
    expect(v1.spec?.targetCPUUtilizationPercentage).toBe(50);
    expect(v1.status?.currentCPUUtilizationPercentage).toBe(70);
    expect(Object.keys(v1.metadata?.annotations ?? {}).sort()).toEqual([
      'autoscaling.alpha.kubernetes.io/behavior', 'autoscaling.alpha.kubernetes.io/conditions', 'autoscaling.alpha.kubernetes.io/metrics']);
    expect(hpaFromV1(v1)).toEqual(v2);
  });
});

describe('HorizontalPodAutoscaler columns', () => {
  it('prints TARGETS like kubectl: current/target per metric, <unknown> before any measurement', () => {
    const h = hpa({ minReplicas: 1, metrics: [cpu(50)] });
    expect(hpaTargets(h)).toBe('cpu: <unknown>/50%');
    h.status = { currentReplicas: 2, desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '2m' } } }] };
    expect(hpaRow(h)).toEqual(['Deployment/web', 'cpu: 12%/50%', 1, 5, 2]);
  });
  it('shortens more than two metrics', () => {
    expect(hpaTargets(hpa({ metrics: [cpu(1), cpu(2), cpu(3)] }))).toBe('cpu: <unknown>/1%, cpu: <unknown>/2% + 1 more...');
  });
});

describe('the kubelet summary over the fake runtime', () => {
  const labels = (uid: string, name: string) => ({
    [LABEL_CLUSTER]: 'c', [LABEL_NODE]: 'n1', [LABEL_POD_UID]: uid, [LABEL_POD_NAME]: name, [LABEL_POD_NAMESPACE]: 'default', [LABEL_CONTAINER_NAME]: 'app',
  });
  /** `early`: timers fire that many ms before they are due (Node's may, by a millisecond). */
  async function setup(early = 0) {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const waits: number[] = [];
    const clock = { now: () => new Date(t), after: (ms: number, fn: () => void) => { waits.push(ms); t += ms - early; fn(); return () => undefined; } };
    const runtime = new FakeRuntime({ now: () => new Date(t) });
    runtime.addImage('registry.k8s.io/pause:3.10');
    runtime.addImage('busybox:latest', { cmd: ['sh'] });
    await runtime.ensureNetwork({ name: 'n1', subnet: '10.244.1.0/24', gateway: '10.244.1.1', labels: {} });
    const sb = await runtime.runPodSandbox({ name: 'sb', network: 'n1', hostname: 'p', image: 'registry.k8s.io/pause:3.10', labels: { [LABEL_CLUSTER]: 'c', [LABEL_POD_UID]: 'u1' }, portMappings: [] });
    const id = await runtime.createContainer(sb.id, { name: 'app', image: 'busybox:latest', labels: labels('u1', 'p'), entrypoint: ['sleep', '60'], env: [], mounts: [] });
    await runtime.startContainer(id);
    runtime.setUsage(id, 0.25, 8 * 1024 * 1024);
    const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'app', image: 'busybox' }] }, status: { startTime: '2030-01-01T00:00:00Z' } };
    let self = 0;
    const stats = new StatsProvider({
      runtime, cluster: 'c', nodeName: 'n1', clock, pods: () => [pod], startTime: new Date(t),
      self: () => ({ timestamp: t, cpuUsageCoreNanoSeconds: (self += 1e7), memoryWorkingSetBytes: 50e6 }),
    });
    return { stats, waits, advance: (ms: number) => { t += ms; }, runtime, id, pod };
  }

  it('samples a new container twice one window apart, then once per request', async () => {
    const s = await setup();
    const first = await s.stats.summary();
    expect(s.waits).toEqual([1000]);
    const c = first.pods[0].containers[0];
    expect(first.pods[0].podRef).toEqual({ name: 'p', namespace: 'default', uid: 'u1' });
    expect(c.cpu.usageNanoCores).toBe(250_000_000);
    expect(c.memory.workingSetBytes).toBe(8 * 1024 * 1024);
    expect(c.usageWindowSeconds).toBe(1);
    s.advance(15_000);
    const second = await s.stats.summary();
    expect(s.waits).toEqual([1000]);
    expect(second.pods[0].containers[0].usageWindowSeconds).toBe(15);
    expect(second.pods[0].cpu.usageNanoCores).toBe(250_000_000);
    // The node: its pods plus the kubelet (10 ms of CPU per 15 s sample here).
    expect(second.node.memory.workingSetBytes).toBe(8 * 1024 * 1024 + 50e6);
    expect(second.node.systemContainers.map((x) => x.name)).toEqual(['kubelet']);
  });
  it('reports every container in the first summary even when the timer fires early', async () => {
    const s = await setup(1);
    const first = await s.stats.summary();
    expect(first.pods.map((p) => p.podRef.name)).toEqual(['p']);
    expect(first.pods[0].containers[0].cpu.usageNanoCores).toBe(250_000_000);
    expect(first.pods[0].containers[0].usageWindowSeconds).toBe(0.999);
    expect(first.node.systemContainers.map((x) => x.name)).toEqual(['kubelet']);
  });
  it('reuses the last rate when asked again within the minimum window', async () => {
    const s = await setup();
    await s.stats.summary();
    s.runtime.setUsage(s.id, 1, 0);
    s.advance(200);
    const again = await s.stats.summary();
    expect(again.pods[0].containers[0].cpu.usageNanoCores).toBe(250_000_000);
    s.advance(1000);
    expect((await s.stats.summary()).pods[0].containers[0].cpu.usageNanoCores).toBe(1e9);
  });
  it('builds NodeMetrics and PodMetrics as metrics-server words them', async () => {
    const s = await setup();
    const summary = await s.stats.summary();
    const pm = podMetrics({ ...s.pod, metadata: { ...s.pod.metadata, labels: { app: 'x' } } }, summary, '2030-01-01T00:00:05Z');
    expect(pm).toMatchObject({ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
      window: '1s', containers: [{ name: 'app', usage: { cpu: '250m', memory: '8Mi' } }] });
    expect(nodeMetrics({ metadata: { name: 'n1' } }, summary, 'x').usage.cpu).toMatch(/^\d+[nu m]?/);
    expect(podMetrics({ ...s.pod, metadata: { ...s.pod.metadata, uid: 'other' } }, summary, 'x')).toBeUndefined();
    expect(usageOf(1234567, 1000)).toEqual({ cpu: '1234567n', memory: '1k' });
  });
  it('computes rates only forward in time', () => {
    expect(cpuRate({ timestamp: 0, cpuUsageCoreNanoSeconds: 0, memoryWorkingSetBytes: 0 }, { timestamp: 2000, cpuUsageCoreNanoSeconds: 1e9, memoryWorkingSetBytes: 0 })).toEqual({ nanoCores: 5e8, windowMs: 2000 });
    expect(cpuRate({ timestamp: 2000, cpuUsageCoreNanoSeconds: 0, memoryWorkingSetBytes: 0 }, { timestamp: 2000, cpuUsageCoreNanoSeconds: 1, memoryWorkingSetBytes: 0 })).toBeUndefined();
    const cache = new SampleCache(1000);
    expect(cache.record('a', { timestamp: 0, cpuUsageCoreNanoSeconds: 5e9, memoryWorkingSetBytes: 0 }).nanoCores).toBeUndefined();
    expect(cache.record('a', { timestamp: 1000, cpuUsageCoreNanoSeconds: 1e9, memoryWorkingSetBytes: 0 }).nanoCores).toBeUndefined();
    // Without a rate yet, a second sample sooner than the minimum window still makes one.
    expect(cache.record('a', { timestamp: 1800, cpuUsageCoreNanoSeconds: 1.4e9, memoryWorkingSetBytes: 0 })).toMatchObject({ nanoCores: 5e8, windowMs: 800 });
    expect(cache.record('a', { timestamp: 2000, cpuUsageCoreNanoSeconds: 9e9, memoryWorkingSetBytes: 0 })).toMatchObject({ nanoCores: 5e8, windowMs: 800 });
  });
});

describe('the controller\'s metric arithmetic', () => {
  const NOW = Date.parse('2030-01-01T01:00:00Z');
  const started = '2030-01-01T00:00:00Z';
  const pod = (name: string, o: { request?: string; ready?: boolean; phase?: string } = {}): Pod => ({
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'x', resources: o.request === undefined ? {} : { requests: { cpu: o.request, memory: '10Mi' } } }] },
    status: { phase: o.phase ?? 'Running', startTime: started, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: started }] },
  });
  const metric = (name: string, cpuUsage: string, memory = '5Mi'): PodMetricsItem => ({
    metadata: { name, namespace: 'default' }, timestamp: '2030-01-01T00:59:59Z', window: '15s', containers: [{ name: 'app', usage: { cpu: cpuUsage, memory } }],
  });
  it.each([
    ['one pod at 5x its target scales to 5', [pod('a', { request: '20m' })], [metric('a', '50m')], 50, 1, 5, 250],
    ['usage within the tolerance keeps the count', [pod('a', { request: '100m' }), pod('b', { request: '100m' })], [metric('a', '52m'), metric('b', '54m')], 50, 2, 2, 53],
    ['idle pods scale down', [pod('a', { request: '100m' }), pod('b', { request: '100m' }), pod('c', { request: '100m' })], [metric('a', '1m'), metric('b', '1m'), metric('c', '1m')], 50, 3, 1, 1],
    ['a missing metric counts as its full request on a scale-down', [pod('a', { request: '100m' }), pod('b', { request: '100m' })], [metric('a', '10m')], 50, 2, 2, 10],
    ['a pending pod counts as 0 on a scale-up', [pod('a', { request: '100m' }), pod('b', { request: '100m', phase: 'Pending' })], [metric('a', '200m')], 50, 2, 4, 200],
  ])('%s', (_n, pods, metrics, target, current, replicas, utilization) => {
    const r = resourceMetricReplicas(cpu(target), current, pods, metrics, NOW);
    expect(r).toMatchObject({ ok: true, replicas, name: 'cpu resource utilization (percentage of request)' });
    if (r.ok) expect(r.status.resource?.current.averageUtilization).toBe(utilization);
  });
  it('refuses a pod without a cpu request, naming its container', () => {
    expect(resourceMetricReplicas(cpu(50), 1, [pod('a')], [metric('a', '10m')], NOW)).toEqual({
      ok: false, reason: 'FailedGetResourceMetric', message: 'failed to get cpu utilization: missing request for cpu in container app of Pod a' });
  });
  it('says when the metrics API returned nothing', () => {
    expect(resourceMetricReplicas(cpu(50), 1, [pod('a', { request: '10m' })], [], NOW)).toMatchObject({ ok: false, reason: 'FailedGetResourceMetric' });
  });
  it('scales on an AverageValue memory target', () => {
    const spec = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '5Mi' } } };
    const r = resourceMetricReplicas(spec, 1, [pod('a', { request: '10m' })], [metric('a', '1m', '15Mi')], NOW);
    expect(r).toMatchObject({ ok: true, replicas: 3, name: 'memory resource', status: { resource: { name: 'memory', current: { averageValue: '15728640' } } } });
    expect(averageValueReplicas(2, 10, [{ name: 'a', request: 1, usage: 10.5, ready: true }, { name: 'b', request: 1, usage: 10, ready: true }])).toMatchObject({ replicas: 2 });
  });
  it.each([
    ['limits a scale-up to max(2x, 4)', 3, 20, 1, 10, [], { replicas: 6, limitedBy: 'ScaleUpLimit' }],
    ['allows 4 from 1', 1, 9, 1, 10, [], { replicas: 4, limitedBy: 'ScaleUpLimit' }],
    ['stops at maxReplicas', 4, 20, 1, 5, [], { replicas: 5, limitedBy: 'TooManyReplicas' }],
    ['keeps the highest recommendation of the downscale window', 5, 1, 1, 10, [{ atMs: 95_000, replicas: 4 }, { atMs: 50_000, replicas: 9 }], { replicas: 4, stabilized: 4 }],
    ['raises to minReplicas', 1, 1, 2, 10, [], { replicas: 2, limitedBy: 'TooFewReplicas' }],
  ])('without behavior, %s', (_n, current, recommended, minReplicas, maxReplicas, history, want) => {
    expect(decideReplicasWithoutBehavior({ current, recommended, minReplicas, maxReplicas, downscaleWindowMs: 30_000, history, nowMs: 100_000 })).toMatchObject(want);
  });
  it('trusts a CPU sample of a young pod only one window after it turned Ready', () => {
    const base = { startMs: 0, ready: { status: 'True', transitionMs: 10_000 }, windowMs: 15_000 };
    expect(sampleTrusted('cpu', { ...base, sampleMs: 20_000 }, 30_000)).toBe(false);
    expect(sampleTrusted('cpu', { ...base, sampleMs: 25_000 }, 30_000)).toBe(true);
    expect(sampleTrusted('cpu', { ...base, ready: { status: 'False', transitionMs: 1000 }, sampleMs: 400_000 }, 400_000)).toBe(false);
    expect(sampleTrusted('memory', { ...base, sampleMs: 0 }, 0)).toBe(true);
  });
  it('moves a condition\'s transition time only when its status changes', () => {
    const t1 = new Date('2030-01-01T00:00:00Z');
    const t2 = new Date('2030-01-01T00:01:00Z');
    const a = setCondition([], 'ScalingActive', 'True', 'ValidMetricFound', 'x', t1);
    const b = setCondition(a, 'ScalingActive', 'True', 'ValidMetricFound', 'y', t2);
    expect(b[0].lastTransitionTime).toBe('2030-01-01T00:00:00Z');
    expect(setCondition(b, 'ScalingActive', 'False', 'FailedGetResourceMetric', 'z', t2)[0].lastTransitionTime).toBe('2030-01-01T00:01:00Z');
    expect(setCondition(a, 'AbleToScale', 'True', 'r', 'm', t1).map((c) => c.type)).toEqual(['AbleToScale', 'ScalingActive']);
  });
});

describe('the top and autoscale commands', () => {
  it('prints top nodes with kubectl\'s units and percentages of allocatable', () => {
    const rows = nodeTable([{ metadata: { name: 'n1' }, status: { allocatable: { cpu: '2', memory: '4Gi' } } }],
      [{ metadata: { name: 'n1' }, usage: { cpu: '250000000n', memory: '1Gi' } }]);
    expect(rows).toEqual([['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'], ['n1', '250m', '12%', '1024Mi', '25%']]);
    expect(nodeTable([{ metadata: { name: 'n2' } }], [])[1]).toEqual(['n2', '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
  });
  it('prints top pods per pod, per container, across namespaces', () => {
    const m = [{ metadata: { name: 'p', namespace: 'ns' }, containers: [{ name: 'a', usage: { cpu: '1500000n', memory: '3Mi' } }, { name: 'b', usage: { cpu: '1m', memory: '1Mi' } }] }];
    expect(podTable(m, {})).toEqual([['NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['p', '3m', '4Mi']]);
    expect(podTable(m, { allNamespaces: true, containers: true })[2]).toEqual(['ns', 'p', 'b', '1m', '1Mi']);
  });
  it('makes the HPA kubectl autoscale makes', () => {
    expect(autoscaleObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, 'default', { min: -1, max: 3, cpuPercent: 50 }).spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, metrics: [cpu(50)] });
    expect(() => autoscaleObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, 'default', { min: 4, max: 3, cpuPercent: -1 }))
      .toThrow('--max=MAXPODS must be larger or equal to --min=MINPODS, max: 3, min: 4');
  });
});

describe('protobuf', () => {
  it('round-trips an autoscaling/v2 HPA and a PodMetrics through the protobuf envelope', () => {
    const h = hpa({ minReplicas: 2, metrics: [cpu(50)], behavior: { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 10, periodSeconds: 15 }] } } });
    h.status = { currentReplicas: 2, desiredReplicas: 3, conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'm', lastTransitionTime: '2030-01-01T00:00:00Z' }] };
    const pb = encodeProtobuf(h as unknown as Record<string, unknown>);
    expect(pb).toBeDefined();
    expect(decodeProtobuf(pb as Buffer)).toEqual(h);
    const pm = { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'p', namespace: 'default' }, timestamp: '2030-01-01T00:00:00Z', window: '15s',
      containers: [{ name: 'app', usage: { cpu: '1234567n', memory: '8Mi' } }] };
    expect(decodeProtobuf(encodeProtobuf(pm) as Buffer)).toEqual(pm);
  });
});

describe('planning one HPA sync', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const ok = (replicas: number): MetricResult => ({ ok: true, replicas, name: 'cpu resource utilization (percentage of request)',
    status: { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90 } } } });
  const bad: MetricResult = { ok: false, reason: 'FailedGetPodsMetric', message: 'no custom metrics API' };
  const plan = (scale: { replicas: number; statusReplicas: number } | { error: string }, metrics?: MetricResult[], spec: Partial<NonNullable<HorizontalPodAutoscaler['spec']>> = {}) =>
    planHorizontal({ hpa: hpa({ minReplicas: 1, maxReplicas: 5, metrics: [cpu(50)], ...spec }), now, scale, metrics,
      history: { recommendations: [], events: [] }, behavior: withDefaultBehavior(undefined), downscaleWindowMs: 300_000 });
  const cond = (p: ReturnType<typeof plan>, type: string) => p.status.conditions?.find((c) => c.type === type);

  it.each([
    ['scales up to what the metric asks', { replicas: 1, statusReplicas: 1 }, [ok(3)], { replicas: 3, reason: 'cpu resource utilization (percentage of request) above target' }, 'ScalingLimited', 'DesiredWithinRange'],
    ['stops at maxReplicas', { replicas: 4, statusReplicas: 4 }, [ok(9)], { replicas: 5, reason: 'cpu resource utilization (percentage of request) above target' }, 'ScalingLimited', 'TooManyReplicas'],
    ['brings a count above max down without metrics', { replicas: 7, statusReplicas: 7 }, undefined, { replicas: 5, reason: 'Current number of replicas above Spec.MaxReplicas' }, 'AbleToScale', 'SucceededGetScale'],
    ['keeps the count when the metric agrees', { replicas: 2, statusReplicas: 2 }, [ok(2)], undefined, 'AbleToScale', 'ReadyForNewScale'],
    ['does nothing for a target scaled to zero', { replicas: 0, statusReplicas: 0 }, undefined, undefined, 'ScalingActive', 'ScalingDisabled'],
    ['does not scale down while a metric is invalid', { replicas: 3, statusReplicas: 3 }, [ok(1), bad], undefined, 'ScalingActive', 'FailedGetPodsMetric'],
    ['still scales up on the valid metric', { replicas: 1, statusReplicas: 1 }, [ok(2), bad], { replicas: 2, reason: 'cpu resource utilization (percentage of request) above target' }, 'ScalingActive', 'ValidMetricFound'],
    ['reports a scale it could not read', { error: 'deployments.apps "web" not found' }, undefined, undefined, 'AbleToScale', 'FailedGetScale'],
  ])('%s', (_n, scale, metrics, rescale, type, reason) => {
    const p = plan(scale, metrics as MetricResult[] | undefined);
    expect(p.rescale).toEqual(rescale);
    expect(cond(p, type)?.reason).toBe(reason);
    if (rescale) expect(p.status.lastScaleTime).toBe('2030-01-01T00:00:00Z');
  });
  it('names the invalid metrics in a warning and keeps the last desired count', () => {
    const p = plan({ replicas: 3, statusReplicas: 3 }, [bad]);
    expect(p.warnings.map((w) => w.reason)).toEqual(['FailedGetPodsMetric', 'FailedComputeMetricsReplicas']);
    expect(p.warnings[1].message).toBe('invalid metrics (1 invalid out of 1), first error is: no custom metrics API');
    expect(p.history).toBeUndefined();
  });
  it('remembers the recommendation for the stabilisation window', () => {
    expect(plan({ replicas: 2, statusReplicas: 2 }, [ok(1)]).history?.recommendations).toEqual([{ atMs: now.getTime(), replicas: 1 }]);
  });
});

describe('examples/hpa.yaml', () => {
  it('is a valid ConfigMap, Deployment and HorizontalPodAutoscaler', () => {
    const docs = loadYamlDocuments(readFileSync(new URL('../../examples/hpa.yaml', import.meta.url), 'utf8')) as KubeObject[];
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler']);
    for (const d of docs) {
      const def = findKind(d.apiVersion ?? '', d.kind ?? '');
      expect(def, d.kind).toBeDefined();
      const obj = { ...d, metadata: { ...d.metadata, namespace: 'default' } } as KubeObject;
      def?.applyDefaults(obj);
      expect(def?.validate(obj), d.kind).toEqual([]);
    }
  });
});
