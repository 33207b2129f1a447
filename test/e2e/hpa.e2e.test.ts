/**
 * The metrics pipeline and the HorizontalPodAutoscaler on the real engine: `kubectl top nodes`
 * and `top pods` (stock kubectl, and minikube-lite's own `top`) show real, non-zero usage that
 * the kubelets measure with Docker's stats; @kubernetes/client-node's Metrics reads PodMetrics;
 * a Deployment whose pod burns CPU (busybox busy loop, 20m request) is scaled from 1 to ≥ 2 by
 * an HPA made with stock `kubectl autoscale`, and back to 1 when the load is switched off
 * through a ConfigMap (the cluster runs with a 2 s HPA sync period and a 10 s scale-down
 * stabilisation window). Skipped with a printed reason without Docker or kubectl.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeConfig, Metrics } from '@kubernetes/client-node';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { KubeObject } from '../../src/api/types.js';
import { TestCluster, dockerAvailable, sh, useCluster } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
if (!hasDocker || !hasKubectl) console.log(`hpa e2e skipped: ${!hasDocker ? 'no Docker engine' : 'no kubectl'}`);

type HPA = HorizontalPodAutoscaler & KubeObject;
const HPAS = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', namespace: 'default' };

/** The load switch and a Deployment whose container busy-loops while the switch says `on`. */
const MANIFEST = `
apiVersion: v1
kind: ConfigMap
metadata: {name: load}
data: {load: "on"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: burn
        image: busybox
        command: ["sh", "-c", "while true; do read l < /load/load; if [ \\"$l\\" = on ]; then :; else sleep 1; fi; done"]
        resources: {requests: {cpu: 20m}, limits: {cpu: 100m}}
        volumeMounts: [{name: load, mountPath: /load}]
      volumes: [{name: load, configMap: {name: load}}]
`;

/** Rows of a whitespace-aligned table, header first. */
const rows = (out: string): string[][] => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

describe.skipIf(!hasDocker || !hasKubectl)('metrics and the HorizontalPodAutoscaler on the real engine', () => {
  const cluster = new TestCluster(`e2e-hpa-${process.pid}`, '10.244.0.0/16');
  const kubeconfig = () => join(cluster.home, 'clusters', cluster.name, 'kubeconfig');
  const kubectl = (args: string[], input?: string) => sh('kubectl', ['--kubeconfig', kubeconfig(), ...args], { input });

  /** Resolves with the HPA once `ok` holds (by watch); fails after `ms` with its last status. */
  const hpaWhen = (ok: (h: HPA) => boolean, ms: number) => new Promise<HPA>((resolve, reject) => {
    let last: HPA | undefined;
    const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out; last HPA status: ${JSON.stringify(last?.status ?? null)}`)); }, ms);
    const h = cluster.client().watch<HPA>(HPAS, { fieldSelector: 'metadata.name=burn' }, (e) => {
      if (e.type === 'ERROR' || e.type === 'DELETED') return;
      last = e.object;
      if (ok(e.object)) { clearTimeout(timer); h.stop(); resolve(e.object); }
    });
  });

  useCluster(cluster, { nodes: 2, upArgs: ['--hpa-sync-period', '2s', '--hpa-downscale-stabilization', '10s'] });

  it('kubectl top nodes shows every node with real, non-zero usage', async () => {
    const r = await kubectl(['top', 'nodes']);
    expect(r.code, r.stderr).toBe(0);
    const [head, ...nodes] = rows(r.stdout);
    expect(head).toEqual(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    expect(nodes.map((n) => n[0]).sort()).toEqual(['node-1', 'node-2']);
    for (const n of nodes) {
      expect(n[1]).toMatch(/^\d+m$/);
      expect(n[2]).toMatch(/^\d+%$/);
      expect(n[3]).toMatch(/^\d+Mi$/);
      // Each node runs at least its kubelet: memory is never zero.
      expect(Number(n[3].replace('Mi', ''))).toBeGreaterThan(0);
    }
    const own = await cluster.cli(['top', 'nodes']);
    expect(own.code, own.stderr).toBe(0);
    expect(rows(own.stdout)[0]).toEqual(head);
  }, 60_000);

  it('kubectl autoscale makes an HPA that scales the busy Deployment from 1 to at least 2', async () => {
    const a = await kubectl(['apply', '-f', '-'], MANIFEST);
    expect(a.code, a.stderr).toBe(0);
    const s = await kubectl(['autoscale', 'deployment', 'burn', '--min=1', '--max=3', '--cpu-percent=50']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.trim()).toBe('horizontalpodautoscaler.autoscaling/burn autoscaled');
    const up = await hpaWhen((h) => (h.status?.desiredReplicas ?? 0) >= 2, 90_000);
    expect(up.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    const util = up.status?.currentMetrics?.[0].resource?.current.averageUtilization ?? 0;
    console.log(`hpa e2e: scaled to ${up.status?.desiredReplicas} at ${util}% of the 20m request`);
    expect(util).toBeGreaterThan(50);
    const d = await kubectl(['get', 'deployment', 'burn', '-o', 'jsonpath={.spec.replicas}']);
    expect(Number(d.stdout)).toBeGreaterThanOrEqual(2);

    const g = await kubectl(['get', 'hpa']);
    const [head, row] = rows(g.stdout);
    expect(head).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    expect(row.slice(0, 2)).toEqual(['burn', 'Deployment/burn']);
    expect(row[2]).toMatch(/^cpu: \d+%\/50%$/);
    expect(row.slice(3, 5)).toEqual(['1', '3']);
    const desc = await kubectl(['describe', 'hpa', 'burn']);
    expect(desc.stdout).toMatch(/SuccessfulRescale\s.*New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/);

    // minikube-lite's own get/describe/autoscale print the same.
    const own = await cluster.cli(['get', 'hpa']);
    expect(rows(own.stdout)[0]).toEqual(head);
    expect(rows(own.stdout)[1][2]).toMatch(/^cpu: \d+%\/50%$/);
    const ownDesc = await cluster.cli(['describe', 'hpa', 'burn']);
    expect(ownDesc.stdout).toMatch(/Reference:\s+Deployment\/burn/);
    expect(ownDesc.stdout).toMatch(/resource cpu on pods  \(as a percentage of request\):\s+\d+% \(\d+m\) \/ 50%/);
    expect(ownDesc.stdout).toMatch(/ScalingActive\s+True\s+ValidMetricFound/);
    const dry = await cluster.cli(['autoscale', 'deployment', 'burn', '--max', '2', '--cpu-percent', '30', '--name', 'other', '--dry-run', 'client', '-o', 'json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ apiVersion: 'autoscaling/v2', metadata: { name: 'other' },
      spec: { maxReplicas: 2, scaleTargetRef: { kind: 'Deployment', name: 'burn' }, metrics: [{ resource: { target: { averageUtilization: 30 } } }] } });
    const bad = await cluster.cli(['autoscale', 'configmap', 'load', '--max', '2']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('cannot autoscale a ConfigMap');
  }, 150_000);

  it('kubectl top pods (-l, -A, --containers) and client-node Metrics show the busy pods\' real usage', async () => {
    const r = await kubectl(['top', 'pods', '-l', 'app=burn']);
    expect(r.code, r.stderr).toBe(0);
    const [head, ...pods] = rows(r.stdout);
    expect(head).toEqual(['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(pods.length).toBeGreaterThanOrEqual(1);
    const cpus = pods.map((p) => Number(p[1].replace(/m$/, '')));
    console.log(`hpa e2e: kubectl top pods -l app=burn: ${pods.map((p) => `${p[0]} ${p[1]}`).join(', ')}`);
    expect(Math.max(...cpus)).toBeGreaterThan(10);

    const all = await kubectl(['top', 'pods', '-A', '--containers']);
    expect(all.code, all.stderr).toBe(0);
    expect(rows(all.stdout)[0]).toEqual(['NAMESPACE', 'POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(all.stdout).toMatch(/default\s+burn-\S+\s+burn\s+\d+m/);
    const own = await cluster.cli(['top', 'pods', '-l', 'app=burn']);
    expect(own.code, own.stderr).toBe(0);
    expect(rows(own.stdout)[0]).toEqual(head);

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig());
    const list = await new Metrics(kc).getPodMetrics('default');
    const burn = list.items.filter((m) => m.metadata.name.startsWith('burn-'));
    expect(burn.length).toBeGreaterThanOrEqual(1);
    expect(burn[0].containers[0]).toMatchObject({ name: 'burn', usage: { cpu: expect.stringMatching(/^\d+[nu m]?$/), memory: expect.stringMatching(/^\d+/) } });
    const nodes = await new Metrics(kc).getNodeMetrics();
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(['node-1', 'node-2']);
  }, 60_000);

  it('scales back to 1 once the load stops', async () => {
    const p = await kubectl(['patch', 'configmap', 'load', '-p', '{"data":{"load":"off"}}']);
    expect(p.code, p.stderr).toBe(0);
    const t0 = Date.now();
    const down = await hpaWhen((h) => h.status?.desiredReplicas === 1 && h.status.currentReplicas === 1, 120_000);
    console.log(`hpa e2e: back to 1 replica ${Math.round((Date.now() - t0) / 1000)} s after the load stopped`);
    expect(down.status?.currentMetrics?.[0].resource?.current.averageUtilization ?? 100).toBeLessThan(50);
    const events = JSON.parse((await kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler', '-o', 'json'])).stdout) as {
      items: { reason: string; message: string }[] };
    expect(events.items.filter((e) => e.reason === 'SuccessfulRescale').map((e) => e.message)).toContain('New size: 1; reason: All metrics below target');
    const v1 = JSON.parse((await kubectl(['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/burn'])).stdout) as {
      apiVersion: string; spec: { targetCPUUtilizationPercentage: number }; status: { currentReplicas: number } };
    expect(v1).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 50 }, status: { currentReplicas: 1 } });
  }, 150_000);
});
