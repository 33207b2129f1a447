/**
 * Replicas that stay alive, on a real Docker engine: a Deployment scaled with the seed's command,
 * pods replaced when they die, a rolling update that never drops below the allowed available
 * pods, rollback, a lost node whose pods come back elsewhere, and cascading deletion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { PODS } from '../../src/client/client.js';
import { ROOT, TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const podsRef = { ...PODS, namespace: 'default' };
const deployRef = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };

interface Deployment extends KubeObject {
  spec?: { replicas?: number; template?: { spec?: Pod['spec'] } };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number };
}

const ready = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' &&
  (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe.skipIf(!hasDocker)('Deployments on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-deploy-${process.pid}`, '10.238.0.0/16');

  /** Pods of myapp, from a fresh LIST. */
  const myappPods = async () => (await cluster.client().list<Pod>(podsRef, { labelSelector: 'app=myapp' })).items;

  /** Waits until `ok` holds for myapp's pods: a LIST, then a watch from its resourceVersion. */
  async function waitForPods(ok: (pods: Pod[]) => boolean, ms = 90_000): Promise<Pod[]> {
    const client = cluster.client();
    const list = await client.list<Pod>(podsRef, { labelSelector: 'app=myapp' });
    const cache = new Map<string, Pod>(list.items.map((p) => [p.metadata?.uid ?? '', p]));
    if (ok([...cache.values()])) return [...cache.values()];
    return new Promise<Pod[]>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out; pods: ${[...cache.values()].map((p) => `${p.metadata?.name}:${p.status?.phase}:${p.spec?.nodeName}`).join(' ')}`)); }, ms);
      const h = client.watch<Pod>(podsRef, { labelSelector: 'app=myapp', resourceVersion: list.metadata.resourceVersion }, (e) => {
        if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
        if (e.type === 'DELETED') cache.delete(e.object.metadata?.uid ?? '');
        else cache.set(e.object.metadata?.uid ?? '', e.object);
        const pods = [...cache.values()];
        if (ok(pods)) { clearTimeout(timer); h.stop(); resolve(pods); }
      });
      h.done.catch((err: unknown) => { clearTimeout(timer); reject(err as Error); });
    });
  }

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR,
      '--node-status-update-frequency', '1s', '--node-monitor-grace-period', '10s', '--pod-eviction-timeout', '2s']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('keeps the declared replicas of myapp Running', async () => {
    const r = await cluster.cli(['apply', '-f', join(ROOT, 'examples/myapp-deployment.yaml')]);
    expect(r.stdout.trim()).toBe('deployment.apps/myapp created');
    const pods = await waitForPods((ps) => ps.filter(ready).length === 2 && ps.length === 2);
    for (const p of pods) expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    const get = await cluster.cli(['get', 'deploy,rs,pods']);
    expect(get.stdout).toMatch(/^deployment\.apps\/myapp\s+2\/2\s+2\s+2\s/m);
    expect(get.stdout).toMatch(/^replicaset\.apps\/myapp-[a-z0-9]+\s+2\s+2\s+2\s/m);
  }, 120_000);

  it('scales with the seed\'s command and every replica answers HTTP from a debug container', async () => {
    const r = await cluster.cli(['scale', 'deployment', 'myapp', '--replicas=3']);
    expect(r.stdout.trim()).toBe('deployment.apps/myapp scaled');
    const pods = await waitForPods((ps) => ps.filter(ready).length === 3 && ps.length === 3);
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2); // spread over both nodes
    for (const p of pods) {
      const page = await cluster.cli(['debug', '--', 'wget', '-qO-', `http://${p.status?.podIP}/`]);
      expect(page.stdout, `pod ${p.metadata?.name} at ${p.status?.podIP}: ${page.stderr}`).toContain('Welcome to nginx!');
    }
  }, 120_000);

  it('replaces a deleted pod and repairs a pod whose containers were removed behind its back', async () => {
    const [victim, damaged] = (await myappPods()).filter(ready);
    await cluster.cli(['delete', 'pod', victim.metadata?.name ?? '', '--wait=false']);
    const after = await waitForPods((ps) => ps.filter(ready).length === 3 && !ps.some((p) => p.metadata?.uid === victim.metadata?.uid));
    expect(after.length).toBe(3);
    const uid = damaged.metadata?.uid ?? '';
    await sh('sh', ['-c', `docker rm -f $(docker ps -q --filter label=io.kubernetes.pod.uid=${uid})`]);
    const repaired = await waitForPods((ps) => {
      const p = ps.find((x) => x.metadata?.uid === uid);
      return !!p && ready(p) && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    });
    expect(repaired.filter(ready).length).toBe(3);
  }, 120_000);

  it('rolls out a new image without dropping below the available replicas allowed, then rolls back', async () => {
    const samples: number[] = [];
    const client = cluster.client();
    const list = await client.list<Pod>(podsRef, { labelSelector: 'app=myapp' });
    const cache = new Map<string, Pod>(list.items.map((p) => [p.metadata?.uid ?? '', p]));
    const watch = client.watch<Pod>(podsRef, { labelSelector: 'app=myapp', resourceVersion: list.metadata.resourceVersion }, (e) => {
      if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') cache.delete(e.object.metadata?.uid ?? '');
      else cache.set(e.object.metadata?.uid ?? '', e.object);
      samples.push([...cache.values()].filter(ready).length);
    });
    const set = await cluster.cli(['set', 'image', 'deployment/myapp', 'web=nginx:1.22']);
    expect(set.stdout.trim()).toBe('deployment.apps/myapp image updated');
    const status = await cluster.cli(['rollout', 'status', 'deployment/myapp', '--timeout=120s'], { timeoutMs: 150_000 });
    watch.stop();
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.trim().split('\n').pop()).toBe('deployment "myapp" successfully rolled out');
    // 3 replicas, maxUnavailable 25% (rounds down to 0): never fewer than 3 ready pods.
    expect(samples.length).toBeGreaterThan(5);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(3);
    const pods = await waitForPods((ps) => ps.length === 3 && ps.every((p) => ready(p) && p.spec?.containers?.[0]?.image === 'nginx:1.22'));
    expect(pods.length).toBe(3);
    const hist = await cluster.cli(['rollout', 'history', 'deployment/myapp']);
    expect(hist.stdout).toMatch(/^REVISION\s+CHANGE-CAUSE/m);
    expect(hist.stdout).toMatch(/^2\s/m);
    const undo = await cluster.cli(['rollout', 'undo', 'deployment/myapp']);
    expect(undo.stdout.trim()).toBe('deployment.apps/myapp rolled back');
    const back = await cluster.cli(['rollout', 'status', 'deployment/myapp', '--timeout=120s'], { timeoutMs: 150_000 });
    expect(back.code, back.stderr).toBe(0);
    const d = await client.get<Deployment>(deployRef, 'myapp');
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('nginx:latest');
  }, 300_000);

  it('brings a lost node\'s pods back on the other node, and cleans the node when it returns', async () => {
    const pods = await waitForPods((ps) => ps.length === 3 && ps.every(ready));
    const onNode2 = pods.filter((p) => p.spec?.nodeName === 'node-2');
    expect(onNode2.length).toBeGreaterThan(0);
    const t0 = Date.now();
    const stop = await cluster.cli(['node', 'stop', 'node-2']);
    expect(stop.code, stop.stderr).toBe(0);
    const moved = await waitForPods((ps) => ps.filter(ready).length === 3 && ps.filter(ready).every((p) => p.spec?.nodeName === 'node-1'), 120_000);
    const recovery = (Date.now() - t0) / 1000;
    process.stderr.write(`node-loss recovery: ${recovery.toFixed(1)}s (grace 10s, eviction 2s)\n`);
    expect(moved.filter(ready).length).toBe(3);
    const nodes = await cluster.cli(['get', 'nodes']);
    expect(nodes.stdout).toMatch(/^node-2\s+NotReady/m);
    const start = await cluster.cli(['node', 'start', 'node-2']);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/Node node-2 started and Ready/);
    // The returning kubelet removes the containers of pods that were evicted while it was away.
    const evicted = onNode2.map((p) => p.metadata?.uid ?? '');
    let left = 1;
    for (let i = 0; i < 50 && left > 0; i++) {
      const r = await Promise.all(evicted.map((uid) => sh('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${uid}`])));
      left = r.map((x) => x.stdout.trim()).filter(Boolean).length;
      if (left > 0) await new Promise((res) => setTimeout(res, 200));
    }
    expect(left).toBe(0);
  }, 180_000);

  it('deletes the deployment with its ReplicaSets, pods and containers', async () => {
    const r = await cluster.cli(['delete', 'deployment', 'myapp']);
    expect(r.stdout.trim()).toBe('deployment.apps "myapp" deleted');
    await waitForPods((ps) => ps.length === 0, 60_000);
    const rs = await cluster.client().list({ group: 'apps', version: 'v1', resource: 'replicasets', namespace: 'default' });
    expect(rs.items).toEqual([]);
    let containers = 'x';
    for (let i = 0; i < 100 && containers; i++) {
      // The default namespace's: the cluster's own ingress controller (ingress-nginx) keeps running.
      containers = (await sh('docker', ['ps', '-aq', '--filter', `label=minikube-lite.cluster=${cluster.name}`, '--filter', 'label=io.kubernetes.pod.namespace=default'])).stdout.trim();
      if (containers) await new Promise((res) => setTimeout(res, 200));
    }
    expect(containers).toBe('');
    expect(await myappPods()).toEqual([]);
  }, 90_000);
});
