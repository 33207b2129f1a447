/**
 * Evictions and drains on a real Docker engine with stock kubectl: a Deployment of 3 nginx pods,
 * all on node-2 of a 2-node cluster, under a PodDisruptionBudget. `minikube-lite node delete`
 * refuses to take node-2 while the budget allows no eviction; `kubectl drain node-2
 * --ignore-daemonsets --delete-emptydir-data` evicts the pods one by one, is refused (429) while
 * a replacement is not Ready yet, retries, and finishes with every pod on node-1 and never fewer
 * Ready pods than the budget's minAvailable. Cluster prefix `e2e-ste`, pod CIDR 10.208.0.0/16.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeObject, Node, Pod } from '../../src/api/types.js';
import { NODES, PODS, type ApiClient, type ResourceRef } from '../../src/client/client.js';
import { TestCluster, dockerAvailable, sh, useCluster, waitForObject } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client'])).code === 0;
const pods = { ...PODS, namespace: 'default' };
const pdbs: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'default' };
type PDB = PodDisruptionBudget & KubeObject;
type PodObject = Pod & KubeObject;

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: nginx
        image: nginx:latest
        imagePullPolicy: IfNotPresent
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: web}}
`;

/** waitForObject for an object that must exist. */
const waitFor = <T extends KubeObject>(client: ApiClient, ref: ResourceRef, name: string, ok: (o: T) => boolean, ms = 90_000) =>
  waitForObject<T>(client, ref, name, (o) => o !== undefined && ok(o), ms);

const ready = (p: PodObject) => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe.skipIf(!hasDocker || !hasKubectl)('eviction and kubectl drain on a real Docker engine (skipped without a Docker engine or /usr/bin/kubectl)', () => {
  const cluster = new TestCluster(`e2e-ste-drain-${process.pid}`, '10.208.0.0/16');
  const kubectl = (args: string[], timeoutMs = 120_000) => sh('kubectl', ['--kubeconfig', join(cluster.home, 'clusters', cluster.name, 'kubeconfig'), ...args], { timeoutMs });
  useCluster(cluster, { nodes: 2, setup: async () => {
    // All three pods on node-2: node-1 is cordoned while they are placed.
    expect((await kubectl(['cordon', 'node-1'])).stdout).toBe('node/node-1 cordoned\n');
    expect((await cluster.cli(['apply', '-f', '-'], { input: MANIFEST })).code).toBe(0);
    const client = cluster.client();
    await waitFor<KubeObject & { status?: { readyReplicas?: number } }>(client, { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' }, 'web',
      (d) => d.status?.readyReplicas === 3, 120_000);
    expect((await kubectl(['uncordon', 'node-1'])).stdout).toBe('node/node-1 uncordoned\n');
    await waitFor<PDB>(client, pdbs, 'web', (b) => b.status?.currentHealthy === 3 && b.status.observedGeneration === b.metadata?.generation);
  } });

  it('keeps node-2 when its pods\' budget allows no eviction (node delete gives up at its timeout)', async () => {
    const client = cluster.client();
    const before = (await client.list<PodObject>(pods, { labelSelector: 'app=web' })).items;
    expect(before.map((p) => p.spec?.nodeName)).toEqual(['node-2', 'node-2', 'node-2']);
    const r = await cluster.cli(['node', 'delete', 'node-2', '--timeout', '7']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node "node-2" was not deleted: pod default\/web-\S+ could not be evicted before the timeout: Cannot evict pod as it would violate the pod's disruption budget\./);
    expect(r.stdout).toContain('node/node-2 cordoned');
    const after = (await client.list<PodObject>(pods, { labelSelector: 'app=web' })).items;
    expect(after.map((p) => p.metadata?.uid).sort()).toEqual(before.map((p) => p.metadata?.uid).sort());
    expect(after.every(ready)).toBe(true);
    expect((await client.get<Node & KubeObject>(NODES, 'node-2')).spec?.unschedulable).toBe(true);
    expect((await kubectl(['uncordon', 'node-2'])).stdout).toBe('node/node-2 uncordoned\n');
  }, 120_000);

  it('drains node-2 with stock kubectl: one eviction at a time, 429 while the budget is spent, never below minAvailable', async () => {
    const client = cluster.client();
    expect((await kubectl(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":2}}'])).code).toBe(0);
    await waitFor<PDB>(client, pdbs, 'web', (b) => b.status?.disruptionsAllowed === 1 && b.status.observedGeneration === b.metadata?.generation);

    // Watch the Ready count and the budget through the whole drain.
    const readyPods = new Map<string, boolean>();
    let minReady = Number.POSITIVE_INFINITY;
    const disruptionTargets = new Set<string>();
    const podWatch = client.watch<PodObject>(pods, { labelSelector: 'app=web' }, (e) => {
      if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
      const name = e.object.metadata?.name ?? '';
      readyPods.set(name, e.type !== 'DELETED' && ready(e.object));
      if ((e.object.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'EvictionByEvictionAPI')) disruptionTargets.add(name);
      if (e.type !== 'ADDED' || readyPods.size >= 3) minReady = Math.min(minReady, [...readyPods.values()].filter(Boolean).length);
    });
    const allowed: number[] = [];
    const pdbWatch = client.watch<PDB>(pdbs, { fieldSelector: 'metadata.name=web' }, (e) => {
      if (e.type === 'MODIFIED' || e.type === 'ADDED') allowed.push(e.object.status?.disruptionsAllowed ?? -1);
    });

    const started = Date.now();
    const drain = await kubectl(['drain', 'node-2', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s'], 200_000);
    const seconds = (Date.now() - started) / 1000;
    podWatch.stop();
    pdbWatch.stop();
    const output = drain.stdout + drain.stderr;
    expect(drain.code, output).toBe(0);
    expect(drain.stdout).toContain('node/node-2 cordoned');
    // kubectl prints "evicting pod" before every try: each of the 3 pods, and again for each retry.
    const tries = drain.stdout.match(/^evicting pod default\/web-\S+$/gm) ?? [];
    expect(new Set(tries).size).toBe(3);
    expect(tries.length).toBeGreaterThan(3);
    expect(drain.stdout.match(/^pod\/web-\S+ evicted$/gm)).toHaveLength(3);
    expect(drain.stdout).toMatch(/node\/node-2 drained\n$/);
    // The budget refused at least once and kubectl retried.
    expect(output).toMatch(/error when evicting pods\/"web-\S+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    expect(allowed).toContain(0);
    expect(disruptionTargets.size).toBe(3);
    expect(minReady).toBeGreaterThanOrEqual(2);
    console.log(`drain of 3 pods under minAvailable 2: ${seconds.toFixed(1)}s, fewest Ready pods during it: ${minReady}`);

    const now = (await client.list<PodObject>(pods, { labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(now.map((p) => p.spec?.nodeName)).toEqual(['node-1', 'node-1', 'node-1']);
    const events = await kubectl(['get', 'events', '--field-selector', 'reason=SuccessfulCreate', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    expect(events.stdout.split('\n').filter((l) => l.startsWith('Created pod: web-')).length).toBeGreaterThanOrEqual(6);
    expect((await kubectl(['get', 'node', 'node-2', '-o', 'jsonpath={.spec.unschedulable}'])).stdout).toBe('true');
  }, 240_000);

  it('deletes the drained node', async () => {
    const r = await cluster.cli(['node', 'delete', 'node-2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Node node-2 deleted');
    expect((await kubectl(['get', 'nodes', '-o', 'name'])).stdout).toBe('node/node-1\n');
  }, 120_000);
});
