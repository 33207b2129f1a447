/**
 * A cluster's processes under faults, on a real Docker engine: the component lock (a second
 * kubelet or control plane refuses to start), `up` adopting a half-dead cluster without a second
 * kubelet, `down` finding processes whose pid files lie, the token kept off command lines, and
 * `stop`/`start` bringing back a Deployment, a Service and an emptyDir pod as a node reboot does.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { PODS } from '../../src/client/client.js';
import { readClusterConfig } from '../../src/cli/context.js';
import { CLI, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';
import { clusterProcesses } from './procs.js';

const hasDocker = await dockerAvailable();
const ref = { ...PODS, namespace: 'default' };

const count = (name: string, command: string) => clusterProcesses(name).filter((p) => p.command === command).length;

describe.skipIf(!hasDocker)('a cluster\'s processes under faults (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-trk-p${process.pid}`, '10.222.0.0/16');
  const dir = () => join(cluster.home, 'clusters', cluster.name);

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(clusterProcesses(cluster.name)).toEqual([]);
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('keeps the token off every command line: components read it from a 0600 file', async () => {
    const token = readClusterConfig(cluster.home, cluster.name)?.token ?? '';
    expect(token.length).toBeGreaterThan(20);
    const procs = clusterProcesses(cluster.name);
    expect(procs.map((p) => p.command).sort()).toEqual(['controlplane', 'dns', 'kubelet', 'kubelet', 'proxy']);
    for (const p of procs) expect(p.argv.join(' ')).not.toContain(token);
    const ps = await sh('ps', ['auxww']);
    expect(ps.stdout).toContain(cluster.name);
    expect(ps.stdout).not.toContain(token);
    expect(statSync(join(dir(), 'token')).mode & 0o777).toBe(0o600);
  });

  it('refuses a second kubelet, control plane, service proxy or DNS of the same cluster, naming the running one', async () => {
    const cfg = readClusterConfig(cluster.home, cluster.name);
    for (const id of ['kubelet-node-1', 'controlplane', 'proxy', 'dns']) {
      const spec = cfg?.components?.find((c) => c.id === id);
      expect(spec).toBeDefined();
      const r = await sh(process.execPath, [CLI, ...(spec?.args ?? [])], { timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: ${id} of cluster "${cluster.name}" is already running \\(pid \\d+\\): refusing to start a second one`));
    }
    expect(count(cluster.name, 'kubelet')).toBe(2);
    expect(count(cluster.name, 'controlplane')).toBe(1);
    expect(count(cluster.name, 'proxy')).toBe(1);
    expect(count(cluster.name, 'dns')).toBe(1);
  }, 60_000);

  it('after a kill -9 of the control plane, `up` adopts the live kubelets and starts only the control plane', async () => {
    const [cp] = clusterProcesses(cluster.name).filter((p) => p.command === 'controlplane');
    const kubelets = clusterProcesses(cluster.name).filter((p) => p.command === 'kubelet').map((p) => p.pid).sort();
    process.kill(cp.pid, 'SIGKILL');
    const r = await cluster.cli(['up', '--nodes', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kubelet-node-1 is already running \(pid \d+\): adopting it/);
    expect(r.stdout).toMatch(/kubelet-node-2 is already running \(pid \d+\): adopting it/);
    expect(clusterProcesses(cluster.name).filter((p) => p.command === 'kubelet').map((p) => p.pid).sort()).toEqual(kubelets);
    expect(count(cluster.name, 'controlplane')).toBe(1);
  }, 120_000);

  it('`status` names a degraded cluster, and `up` brings back a kubelet killed with -9', async () => {
    const [k] = clusterProcesses(cluster.name).filter((p) => p.command === 'kubelet' && p.argv.includes('node-2'));
    process.kill(k.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200)); // the kernel frees the lock as it reaps: no event to wait on across processes
    const st = await cluster.cli(['status']);
    expect(st.stdout).toMatch(/State:\s+Degraded \(1 of 5 components stopped/);
    expect(st.stdout).toMatch(/Node node-2:\s+kubelet Stopped/);
    const r = await cluster.cli(['up']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kubelet-node-2 was not running: started it again/);
    expect(count(cluster.name, 'kubelet')).toBe(2);
  }, 120_000);

  it('stop then start brings back a 3-replica Deployment with the same pod names, its Service and ConfigMap, an emptyDir pod\'s data and a PersistentVolumeClaim\'s data', async () => {
    const manifest = [
      'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: web}', 'spec:', '  replicas: 3', '  selector: {matchLabels: {app: web}}',
      '  template:', '    metadata: {labels: {app: web}}', '    spec:', '      containers: [{name: nginx, image: nginx, imagePullPolicy: IfNotPresent}]',
      '---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: web}', 'spec: {selector: {app: web}, ports: [{port: 80}]}',
      '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: settings}', 'data: {mode: kept}',
      '---', 'apiVersion: v1', 'kind: Pod', 'metadata: {name: scratch}', 'spec:', '  volumes: [{name: data, emptyDir: {}}]', '  containers:',
      '  - {name: app, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, "echo boot >> /data/boots; exec sleep 3600"], volumeMounts: [{name: data, mountPath: /data}]}',
      '---', 'apiVersion: v1', 'kind: PersistentVolumeClaim', 'metadata: {name: keep}', 'spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}',
      '---', 'apiVersion: v1', 'kind: Pod', 'metadata: {name: keeper}', 'spec:', '  volumes: [{name: data, persistentVolumeClaim: {claimName: keep}}]', '  containers:',
      '  - {name: app, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, "echo boot >> /data/boots; exec sleep 3600"], volumeMounts: [{name: data, mountPath: /data}]}',
      '',
    ].join('\n');
    expect((await cluster.cli(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    expect((await cluster.cli(['wait', '--for=condition=Ready', 'pod', '--all', '--timeout=90s'], { timeoutMs: 100_000 })).code).toBe(0);
    const client = cluster.client();
    const before = (await client.list<Pod>(ref)).items;
    const names = before.map((p) => p.metadata?.name).sort();
    const uids = before.map((p) => p.metadata?.uid).sort();
    const svc = await client.get<{ metadata?: { uid?: string }; spec?: { clusterIP?: string } }>({ group: '', version: 'v1', resource: 'services', namespace: 'default' }, 'web');
    const cmRef = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    const cm = await client.get<{ metadata?: { uid?: string }; data?: Record<string, string> }>(cmRef, 'settings');

    const stop = await cluster.cli(['stop'], { timeoutMs: 120_000 });
    expect(stop.code, stop.stderr).toBe(0);
    expect(clusterProcesses(cluster.name)).toEqual([]);
    const running = await sh('docker', ['ps', '-q', '--filter', `label=minikube-lite.cluster=${cluster.name}`]);
    expect(running.stdout.trim()).toBe('');
    expect((await cluster.cli(['status'])).stdout).toMatch(/State:\s+Stopped/);

    const t0 = Date.now();
    const start = await cluster.cli(['start'], { timeoutMs: 200_000 });
    const startMs = Date.now() - t0;
    const logs = () => readdirSync(dir()).filter((f) => f.endsWith('.log')).map((f) => `--- ${f}\n${readFileSync(join(dir(), f), 'utf8').slice(-3000)}`).join('\n');
    expect(start.code, `${start.stdout}${start.stderr}\n${start.code === 0 ? '' : logs()}`).toBe(0);
    expect(start.stdout).toMatch(/\* Pods back: 5\/5/);
    expect(start.stdout).toMatch(/Done! Cluster ".*" started in \d+\.\ds/);
    process.stdout.write(`[trust] stop→start of 2 nodes, 5 pods: start took ${(startMs / 1000).toFixed(1)}s\n`);

    const after = (await client.list<Pod>(ref)).items;
    expect(after.map((p) => p.metadata?.name).sort()).toEqual(names);
    expect(after.map((p) => p.metadata?.uid).sort()).toEqual(uids);
    expect(after.filter((p) => p.metadata?.name?.startsWith('web-') && isRunning(p))).toHaveLength(3);
    // As after a node reboot: each container started once more.
    for (const p of after) expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(1);
    const svcAfter = await client.get<{ metadata?: { uid?: string }; spec?: { clusterIP?: string } }>({ group: '', version: 'v1', resource: 'services', namespace: 'default' }, 'web');
    expect(svcAfter.metadata?.uid).toBe(svc.metadata?.uid);
    expect(svcAfter.spec?.clusterIP).toBe(svc.spec?.clusterIP);
    const cmAfter = await client.get<{ metadata?: { uid?: string }; data?: Record<string, string> }>(cmRef, 'settings');
    expect({ uid: cmAfter.metadata?.uid, data: cmAfter.data }).toEqual({ uid: cm.metadata?.uid, data: { mode: 'kept' } });
    // The emptyDir (disk medium) outlives the node's reboot with its pod: both boots wrote to it.
    const boots = await cluster.cli(['exec', 'scratch', '--', 'cat', '/data/boots']);
    expect(boots.stdout).toBe('boot\nboot\n');
    // The claim's volume (a host directory under the cluster) kept its data too.
    const kept = await cluster.cli(['exec', 'keeper', '--', 'cat', '/data/boots']);
    expect(kept.stdout).toBe('boot\nboot\n');
    // Exactly one running sandbox and one running container per pod.
    const ps = await sh('docker', ['ps', '--format', '{{.Names}}', '--filter', `label=minikube-lite.cluster=${cluster.name}`]);
    expect(ps.stdout.trim().split('\n')).toHaveLength(10);
  }, 300_000);

  it('`down` stops every process of the cluster even when its pid files name the wrong processes', async () => {
    // Pid files lie: one names this test's runner, one a pid that does not exist.
    writeFileSync(join(dir(), 'kubelet-node-1.pid'), String(process.pid));
    writeFileSync(join(dir(), 'controlplane.pid'), '999999');
    const r = await cluster.cli(['down']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/5 processes stopped/);
    expect(clusterProcesses(cluster.name)).toEqual([]);
  }, 120_000);
});
