/**
 * The whole path of a Pod on a real Docker engine, through the real CLI: up → apply → scheduler →
 * kubelet → containers → status back → debug container reaches the pod → delete → down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ex = (f: string) => join(ROOT, 'examples', f);

describe.skipIf(!hasDocker)('pods on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-pods-${process.pid}`, '10.231.0.0/16');

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--node-labels', 'node-2:gpu=true', '--pod-cidr', cluster.podCIDR]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Done! Cluster ".*" is ready/);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
  }, 120_000);

  it('says the cluster is already up when up runs twice', async () => {
    const r = await cluster.cli(['up']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is already up');
  });

  it('registers two Ready nodes with their pod subnets and the gpu label on node-2', async () => {
    const r = await cluster.cli(['get', 'nodes', '--show-labels']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/m);
    expect(r.stdout).toMatch(/^node-1\s+Ready/m);
    expect(r.stdout).toMatch(/^node-2\s+Ready.*gpu=true/m);
    const nodes = await cluster.client().list(({ group: '', version: 'v1', resource: 'nodes' }));
    const cidrs = nodes.items.map((n) => (n as { spec?: { podCIDR?: string } }).spec?.podCIDR).sort();
    expect(cidrs).toEqual(['10.231.1.0/24', '10.231.2.0/24']);
  });

  it('runs nginx and the debug container fetches its welcome page by pod IP', async () => {
    const applied = await cluster.cli(['apply', '-f', ex('nginx-pod.yaml')]);
    expect(applied.stdout.trim()).toBe('pod/nginx created');
    const pod = await cluster.waitForPod('nginx', isRunning);
    expect(pod.status?.podIP).toMatch(/^10\.231\.[12]\./);
    const wide = await cluster.cli(['get', 'pods', '-o', 'wide']);
    expect(wide.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/m);
    expect(wide.stdout).toMatch(new RegExp(`^nginx\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.status?.podIP?.replace(/\./g, '\\.')}\\s+node-[12]`, 'm'));
    const page = await cluster.cli(['debug', '--', 'wget', '-qO-', `http://${pod.status?.podIP}/`]);
    expect(page.code).toBe(0);
    expect(page.stdout).toContain('Welcome to nginx!');
    const again = await cluster.cli(['apply', '-f', ex('nginx-pod.yaml')]);
    expect(again.stdout.trim()).toBe('pod/nginx unchanged');
  }, 120_000);

  it('reports status back: conditions, container IDs, image IDs and events', async () => {
    const pod = await cluster.client().get<import('../../src/api/types.js').Pod>({ group: '', version: 'v1', resource: 'pods', namespace: 'default' }, 'nginx');
    const types = Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(types).toMatchObject({ PodScheduled: 'True', Initialized: 'True', ContainersReady: 'True', Ready: 'True' });
    const cs = pod.status?.containerStatuses?.[0];
    expect(cs?.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(cs?.imageID).toMatch(/sha256:[0-9a-f]{64}/);
    expect(pod.status?.startTime).toMatch(/Z$/);
    const d = await cluster.cli(['describe', 'pod', 'nginx']);
    expect(d.code).toBe(0);
    for (const reason of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) expect(d.stdout).toMatch(new RegExp(`Normal\\s+${reason}\\s`));
  });

  it('serves what the writer container wrote through the shared emptyDir volume', async () => {
    await cluster.cli(['apply', '-f', ex('two-container-pod.yaml')]);
    const pod = await cluster.waitForPod('web-with-writer', isRunning);
    let body = '';
    for (let i = 0; i < 10 && !body.includes('Hello from the writer container'); i++) {
      body = (await cluster.cli(['debug', '--', 'wget', '-qO-', `http://${pod.status?.podIP}/`])).stdout;
    }
    expect(body).toContain('Hello from the writer container');
    // nginx mounts the volume read-only.
    const ro = await cluster.cli(['exec', 'web-with-writer', '-c', 'nginx', '--', 'sh', '-c', 'echo x > /usr/share/nginx/html/x']);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toMatch(/Read-only file system/);
  }, 120_000);

  it('lets the containers of one pod talk over localhost', async () => {
    await cluster.cli(['apply', '-f', ex('localhost-pod.yaml')]);
    await cluster.waitForPod('localhost-demo', isRunning);
    const r = await cluster.cli(['exec', 'localhost-demo', '-c', 'sidecar', '--', 'wget', '-qO-', 'http://localhost/']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Welcome to nginx!');
  }, 120_000);

  it('lets a pod on node-1 reach a pod on node-2 by IP, and see the real source IP', async () => {
    const client = cluster.client();
    const ref = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const mk = (name: string, node: string, image: string, command?: string[]) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', ...(command ? { command } : {}) }],
      },
    });
    await client.create(ref, mk('server-on-2', 'node-2', 'nginx:latest'));
    await client.create(ref, mk('client-on-1', 'node-1', 'busybox:latest', ['sleep', '3600']));
    const server = await cluster.waitForPod('server-on-2', isRunning);
    const cl = await cluster.waitForPod('client-on-1', isRunning);
    expect(server.spec?.nodeName).toBe('node-2');
    expect(cl.spec?.nodeName).toBe('node-1');
    const r = await cluster.cli(['exec', 'client-on-1', '--', 'sh', '-c', `timeout 10 wget -qO- http://${server.status?.podIP}/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Welcome to nginx!');
    const logs = await cluster.cli(['logs', 'server-on-2']);
    expect(logs.stdout).toContain(cl.status?.podIP);
  }, 120_000);

  it('expands $(VAR) references in env and command (the seed env example)', async () => {
    await cluster.cli(['apply', '-f', ex('env-pod.yaml')]);
    await cluster.waitForPod('env-demo', (p) => p.status?.phase === 'Succeeded');
    const logs = await cluster.cli(['logs', 'env-demo']);
    expect(logs.stdout).toBe('This application is running on production\nargs say: This application is running on production\n');
    const get = await cluster.cli(['get', 'pod', 'env-demo']);
    expect(get.stdout).toMatch(/^env-demo\s+0\/1\s+Completed\s+0/m);
  }, 120_000);

  it('schedules the nodeSelector pod on the labelled node only', async () => {
    await cluster.cli(['apply', '-f', ex('gpu-pod.yaml')]);
    const pod = await cluster.waitForPod('gpu-app', (p) => !!p.spec?.nodeName);
    expect(pod.spec?.nodeName).toBe('node-2');
  }, 60_000);

  it('keeps an unsatisfiable pod Pending with reason Unschedulable and a FailedScheduling event', async () => {
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: nowhere\nspec:\n  nodeSelector:\n    disktype: ssd\n  containers:\n  - name: c\n    image: nginx:latest\n';
    const r = await cluster.cli(['apply', '-f', '-'], { input: manifest });
    expect(r.stdout.trim()).toBe('pod/nowhere created');
    const pod = await cluster.waitForPod('nowhere', (p) => (p.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False'));
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    expect(cond?.reason).toBe('Unschedulable');
    expect(cond?.message).toBe("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
    expect(pod.status?.phase).toBe('Pending');
    const d = await cluster.cli(['describe', 'pod', 'nowhere']);
    expect(d.stdout).toMatch(/Warning\s+FailedScheduling/);
  }, 60_000);

  it('reports ErrImageNeverPull for a missing image with imagePullPolicy Never', async () => {
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: never-pull\nspec:\n  containers:\n  - name: c\n    image: example.invalid/not-here:1.0\n    imagePullPolicy: Never\n';
    await cluster.cli(['apply', '-f', '-'], { input: manifest });
    const pod = await cluster.waitForPod('never-pull', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe('Container image "example.invalid/not-here:1.0" is not present with pull policy of Never');
    const get = await cluster.cli(['get', 'pod', 'never-pull']);
    expect(get.stdout).toMatch(/^never-pull\s+0\/1\s+ErrImageNeverPull/m);
  }, 60_000);

  it('rejects an invalid manifest with the field path, exit 1, and creates nothing', async () => {
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n  - name: c\n';
    const r = await cluster.cli(['apply', '-f', '-'], { input: manifest });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spec.containers[0].image: Required value');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const get = await cluster.cli(['get', 'pod', 'broken']);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('pods "broken" not found');
  });

  it('removes the containers and the emptyDir volume when a pod is deleted', async () => {
    const pod = await cluster.waitForPod('web-with-writer', isRunning);
    const uid = pod.metadata?.uid ?? '';
    const before = await sh('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${uid}`]);
    expect(before.stdout.trim().split('\n').length).toBe(3); // pause + writer + nginx
    const vols = await sh('docker', ['volume', 'ls', '-q', '--filter', `label=io.kubernetes.pod.uid=${uid}`]);
    expect(vols.stdout.trim()).not.toBe('');
    const r = await cluster.cli(['delete', 'pod', 'web-with-writer']);
    expect(r.stdout.trim()).toBe('pod "web-with-writer" deleted');
    const after = await sh('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${uid}`]);
    expect(after.stdout.trim()).toBe('');
    const volsAfter = await sh('docker', ['volume', 'ls', '-q', '--filter', `label=io.kubernetes.pod.uid=${uid}`]);
    expect(volsAfter.stdout.trim()).toBe('');
  }, 90_000);

  it('leaves no container, network or volume behind after down', async () => {
    const r = await cluster.cli(['down']);
    expect(r.code).toBe(0);
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    const st = await cluster.cli(['get', 'pods']);
    expect(st.code).toBe(1);
    expect(st.stderr).toContain('is not running');
  }, 90_000);
});
