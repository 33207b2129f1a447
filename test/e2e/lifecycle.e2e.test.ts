/**
 * The kubelet's side of a pod's life on a real Docker engine: pull policies and pull errors,
 * restarts, resources mapped to Docker limits, hostPath volumes, graceful termination; plus a
 * second cluster side by side with the other e2e file's, a stopped engine, and the real kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../src/api/types.js';
import { PODS } from '../../src/client/client.js';
import { readClusterConfig } from '../../src/cli/context.js';
import { CLI, ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ref = { ...PODS, namespace: 'default' };

function podOf(name: string, spec: Record<string, unknown>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: spec as unknown as Pod['spec'] };
}

describe.skipIf(!hasDocker)('the pod lifecycle on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-life-${process.pid}`, '10.232.0.0/16');

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('reports ErrImagePull, then ImagePullBackOff, with the engine\'s message', async () => {
    const client = cluster.client();
    await client.create(ref, podOf('bad-image', { containers: [{ name: 'c', image: '127.0.0.1:5000/library/no-such-image:1.0' }] }));
    const first = await cluster.waitForPod('bad-image', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull');
    expect(first.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/^Failed to pull image "127\.0\.0\.1:5000\/library\/no-such-image:1\.0": .*(not found|unknown)/i);
    await cluster.waitForPod('bad-image', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 30_000);
    const get = await cluster.cli(['get', 'pod', 'bad-image']);
    expect(get.stdout).toMatch(/^bad-image\s+0\/1\s+(ImagePullBackOff|ErrImagePull)\s+0/m);
    await cluster.cli(['delete', 'pod', 'bad-image', '--grace-period', '0', '--force']);
  }, 60_000);

  it('pulls an Always image again through the local registry mirror', async () => {
    await cluster.client().create(ref, podOf('always', { containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'Always', command: ['sleep', '3600'] }] }));
    await cluster.waitForPod('always', isRunning);
    const d = await cluster.cli(['describe', 'pod', 'always']);
    expect(d.stdout).toMatch(/Pulling\s+.*Pulling image "busybox:latest"/);
    expect(d.stdout).toMatch(/Pulled\s+.*Successfully pulled image "busybox:latest"/);
  }, 60_000);

  it('restarts a container that exits under restartPolicy Always and counts the restart', async () => {
    await cluster.client().create(ref, podOf('crasher', {
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo run; exit 3'] }],
    }));
    const p = await cluster.waitForPod('crasher', (x) => (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 &&
      x.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode === 3);
    expect(p.status?.containerStatuses?.[0]?.lastState?.terminated?.reason).toBe('Error');
    const w = await cluster.waitForPod('crasher', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 30_000);
    expect(w.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/^back-off \d+s restarting failed container=c pod=crasher_default/);
    const logs = await cluster.cli(['logs', 'crasher']);
    expect(logs.stdout).toBe('run\n');
  }, 60_000);

  it('gives a restartPolicy Never pod that exits 1 the phase Failed', async () => {
    await cluster.client().create(ref, podOf('fails', {
      restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 1'] }],
    }));
    const p = await cluster.waitForPod('fails', (x) => x.status?.phase === 'Failed');
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const get = await cluster.cli(['get', 'pod', 'fails']);
    expect(get.stdout).toMatch(/^fails\s+0\/1\s+Error\s+0/m);
  }, 60_000);

  it('maps resource limits and requests to Docker CPU and memory limits', async () => {
    await cluster.client().create(ref, podOf('limited', {
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
        resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } } }],
    }));
    const p = await cluster.waitForPod('limited', isRunning);
    expect(p.status?.qosClass).toBe('Burstable');
    const id = p.status?.containerStatuses?.[0]?.containerID?.replace('docker://', '') ?? '';
    const r = await sh('docker', ['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.CpuShares}}', id]);
    expect(r.stdout.trim()).toBe(`500000000 ${64 * 1024 * 1024} 256`);
    const mem = await cluster.cli(['exec', 'limited', '--', 'cat', '/sys/fs/cgroup/memory.max']);
    if (mem.code === 0) expect(mem.stdout.trim()).toBe(String(64 * 1024 * 1024));
  }, 60_000);

  it('mounts a hostPath directory (DirectoryOrCreate) with a subPath, and rejects a missing Directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mkl-hostpath-'));
    const path = join(dir, 'made-by-kubelet');
    await cluster.client().create(ref, podOf('hostpath', {
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo hello-from-pod > /data/out.txt'],
        volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'sub' }] }],
      volumes: [{ name: 'data', hostPath: { path, type: 'DirectoryOrCreate' } }],
    }));
    await cluster.waitForPod('hostpath', (x) => x.status?.phase === 'Succeeded');
    expect(readFileSync(join(path, 'sub', 'out.txt'), 'utf8')).toBe('hello-from-pod\n');
    await cluster.client().create(ref, podOf('hostpath-missing', {
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
      volumes: [{ name: 'd', hostPath: { path: join(dir, 'absent'), type: 'Directory' } }],
    }));
    await cluster.waitForPod('hostpath-missing', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating');
    let described = '';
    for (let i = 0; i < 20 && !described.includes('FailedMount'); i++) {
      described = (await cluster.cli(['describe', 'pod', 'hostpath-missing'])).stdout;
      if (!described.includes('FailedMount')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(described).toContain(`MountVolume.SetUp failed for volume "d" : hostPath type check failed: ${join(dir, 'absent')} is not a directory`);
    expect(existsSync(join(dir, 'absent'))).toBe(false);
    await cluster.cli(['delete', 'pod', 'hostpath', 'hostpath-missing', '--grace-period', '0', '--force']);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sends SIGTERM on delete and kills after terminationGracePeriodSeconds', async () => {
    const client = cluster.client();
    // A polite container exits on SIGTERM at once; a stubborn one (sleep as PID 1 ignores SIGTERM)
    // is killed when its 3 s grace period ends.
    await client.create(ref, podOf('polite', { terminationGracePeriodSeconds: 30,
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'] }] }));
    await client.create(ref, podOf('stubborn', { terminationGracePeriodSeconds: 3,
      containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] }));
    await cluster.waitForPod('polite', isRunning);
    await cluster.waitForPod('stubborn', isRunning);
    const timed = async (name: string) => {
      const t = Date.now();
      const r = await cluster.cli(['delete', 'pod', name]);
      expect(r.stdout.trim()).toBe(`pod "${name}" deleted`);
      return (Date.now() - t) / 1000;
    };
    const [polite, stubborn] = await Promise.all([timed('polite'), timed('stubborn')]);
    expect(polite).toBeLessThan(3);
    expect(stubborn).toBeGreaterThanOrEqual(3);
    expect(stubborn).toBeLessThan(10);
  }, 60_000);

  it('runs a second cluster side by side with its own port, networks and pod subnet', async () => {
    const other = new TestCluster(`e2e-side-${process.pid}`, '10.233.0.0/16');
    try {
      const r = await other.cli(['up', '--nodes', '1', '--pod-cidr', other.podCIDR]);
      expect(r.code, r.stderr).toBe(0);
      const a = readClusterConfig(cluster.home, cluster.name);
      const b = readClusterConfig(other.home, other.name);
      expect(b?.server).not.toBe(a?.server);
      const nets = await sh('docker', ['network', 'ls', '--format', '{{.Name}}', '--filter', `label=minikube-lite.cluster=${other.name}`]);
      expect(nets.stdout.trim()).toBe(`mkl-${other.name}-node-1`);
      const pods = await other.cli(['get', 'pods']);
      expect(pods.stderr).toContain('No resources found in default namespace.');
    } finally {
      await other.destroy();
    }
    expect(await other.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('says in one sentence how to start a Docker engine that is not running', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      import('node:child_process').then(({ execFile }) => {
        execFile(process.execPath, [CLI, '--name', 'e2e-nodocker', '--home', cluster.home, 'up'],
          { env: { ...process.env, DOCKER_HOST: 'unix:///tmp/minikube-lite-no-such.sock' } },
          (err, _o, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }));
      });
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: Cannot connect to the Docker engine at unix:///tmp/minikube-lite-no-such.sock: is dockerd running? Start it with: sudo bash scripts/engine.sh',
    ]);
  });

  it.skipIf(!existsSync('/usr/bin/kubectl'))('answers the real kubectl (skipped: /usr/bin/kubectl is not installed)', async () => {
    const kubeconfig = readClusterConfig(cluster.home, cluster.name)?.kubeconfig ?? '';
    expect(existsSync(kubeconfig)).toBe(true);
    const kc = (args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig, ...args]);
    const nodes = await kc(['get', 'nodes']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toMatch(/^node-1\s+Ready/m);
    const apply = await kc(['apply', '-f', join(ROOT, 'examples/nginx-pod.yaml')]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout.trim()).toBe('pod/nginx created');
    await cluster.waitForPod('nginx', isRunning);
    const pods = await kc(['get', 'pods', 'nginx']);
    expect(pods.stdout).toMatch(/^nginx\s+1\/1\s+Running\s+0/m);
    const del = await kc(['delete', 'pod', 'nginx']);
    expect(del.stdout.trim()).toBe('pod "nginx" deleted');
  }, 90_000);
});
