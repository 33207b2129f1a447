/**
 * Admission on a real Docker engine, through the real CLI: a LimitRange's defaults land in a
 * created pod (which then runs with them as its container's limits), its max refuses a bigger
 * pod with Kubernetes' 403; a ResourceQuota refuses the pod over it with Kubernetes' message
 * and its status follows the pods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ex = (f: string) => join(ROOT, 'examples', f);

const podYaml = (name: string, ns: string, resources = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  containers:
  - name: app
    image: nginx
${resources}`;

describe.skipIf(!hasDocker)('LimitRange and ResourceQuota admission on a real Docker engine (skipped without Docker)', () => {
  const cluster = new TestCluster(`e2e-adm-${process.pid}`, '10.252.0.0/16');

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR, '--service-cidr', '10.152.0.0/16']);
    expect(r.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    const left = await cluster.leftovers();
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('a LimitRange default lands in a created pod, and the container runs with that limit', async () => {
    expect((await cluster.cli(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lr\n' })).code).toBe(0);
    const applied = await cluster.cli(['apply', '-n', 'lr', '-f', ex('limitrange.yaml')]);
    expect(applied.code, applied.stderr).toBe(0);
    const created = await cluster.cli(['apply', '-f', '-'], { input: podYaml('defaulted', 'lr') });
    expect(created.code, created.stderr).toBe(0);
    const pod = await cluster.waitForPod('defaulted', isRunning, 90_000, 'lr');
    expect(pod.spec?.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '250m', memory: '128Mi' } });
    expect(pod.metadata?.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app');
    // The defaulted limit is the container's real memory limit on the engine.
    const mem = await cluster.cli(['exec', '-n', 'lr', 'defaulted', '--', 'cat', '/sys/fs/cgroup/memory.max']);
    const memV1 = mem.code === 0 ? mem : await cluster.cli(['exec', '-n', 'lr', 'defaulted', '--', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    expect(memV1.stdout.trim()).toBe(String(256 * 1024 * 1024));

    const table = await cluster.cli(['get', 'limitranges', '-n', 'lr']);
    expect(table.stdout).toMatch(/^NAME\s+CREATED AT\ncpu-mem-defaults\s+\d{4}-\d\d-\d\dT/);
    const described = await cluster.cli(['describe', 'limitrange', 'cpu-mem-defaults', '-n', 'lr']);
    expect(described.stdout).toMatch(/Container\s+cpu\s+50m\s+1\s+250m\s+500m\s+-/);
  }, 150_000);

  it('a LimitRange max refuses a bigger pod with Kubernetes\' 403', async () => {
    const r = await cluster.cli(['apply', '-f', '-'], {
      input: podYaml('greedy', 'lr', '    resources:\n      limits:\n        cpu: "2"\n'),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pods "greedy" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
    const gone = await cluster.cli(['get', 'pod', 'greedy', '-n', 'lr']);
    expect(gone.code).not.toBe(0);
  }, 60_000);
});
