/**
 * Admission on a real Docker engine, through the real CLI: a LimitRange's defaults land in a
 * created pod (which then runs with them as its container's limits), its max refuses a bigger
 * pod with Kubernetes' 403; a ResourceQuota refuses the pod over it with Kubernetes' message
 * and its status follows the pods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from '../../src/api/types.js';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
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

  /** Resolves once the quota's `status.used` satisfies `ok` (by watch). */
  const quotaUsed = (namespace: string, name: string, ok: (used: Record<string, string>) => boolean) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out waiting for quota ${name}`)); }, 30_000);
    const h = cluster.client().watch<ResourceQuota & KubeObject>({ group: '', version: 'v1', resource: 'resourcequotas', namespace },
      { fieldSelector: `metadata.name=${name}` }, (e) => {
        if (e.type !== 'ERROR' && e.type !== 'DELETED' && ok(e.object.status?.used ?? {})) { clearTimeout(timer); h.stop(); resolve(); }
      });
  });

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

  it('a ResourceQuota refuses the pod over it with Kubernetes\' message; get/describe show its usage', async () => {
    expect((await cluster.cli(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: rq\n' })).code).toBe(0);
    const applied = await cluster.cli(['apply', '-n', 'rq', '-f', join(ROOT, 'examples', 'k8s-docs', 'quota-pod.yaml')]);
    expect(applied.code, applied.stderr).toBe(0);
    for (const name of ['first', 'second']) {
      const r = await cluster.cli(['apply', '-f', '-'], { input: podYaml(name, 'rq') });
      expect(r.code, r.stderr).toBe(0);
    }
    await cluster.waitForPod('first', isRunning, 90_000, 'rq');
    await cluster.waitForPod('second', isRunning, 90_000, 'rq');
    const third = await cluster.cli(['apply', '-f', '-'], { input: podYaml('third', 'rq') });
    expect(third.code).not.toBe(0);
    expect(third.stderr).toContain('pods "third" is forbidden: exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2');

    // The controller's status, as kubectl prints it.
    await quotaUsed('rq', 'pod-demo', (used) => used.pods === '2');
    const table = (await cluster.cli(['get', 'resourcequota', '-n', 'rq'])).stdout;
    expect(table).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\npod-demo\s+\S+\s+pods: 2\/2\s*\n/);
    expect((await cluster.cli(['describe', 'quota', 'pod-demo', '-n', 'rq'])).stdout).toMatch(/Resource\s+Used\s+Hard\n-+\s+-+\s+-+\npods\s+2\s+2\n/);

    // Freeing a slot lets the next pod in.
    expect((await cluster.cli(['delete', 'pod', 'first', '-n', 'rq', '--grace-period', '0', '--force'])).code).toBe(0);
    const after = await cluster.cli(['apply', '-f', '-'], { input: podYaml('third', 'rq') });
    expect(after.code, after.stderr).toBe(0);
  }, 200_000);

  it('a PodDisruptionBudget over a real Deployment counts its Ready pods', async () => {
    expect((await cluster.cli(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pdb\n' })).code).toBe(0);
    const applied = await cluster.cli(['apply', '-n', 'pdb', '-f', ex('pdb.yaml')]);
    expect(applied.code, applied.stderr).toBe(0);
    const budget = await new Promise<PodDisruptionBudget>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error('timed out waiting for web-pdb')); }, 90_000);
      const h = cluster.client().watch<PodDisruptionBudget & KubeObject>({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'pdb' },
        { fieldSelector: 'metadata.name=web-pdb' }, (e) => {
          if (e.type !== 'ERROR' && e.type !== 'DELETED' && e.object.status?.currentHealthy === 2) { clearTimeout(timer); h.stop(); resolve(e.object); }
        });
    });
    expect(budget.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
    const table = await cluster.cli(['get', 'pdb', '-n', 'pdb']);
    expect(table.stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb-pdb\s+1\s+N\/A\s+1\s+\S+\n/);
  }, 120_000);

  it.skipIf(!hasKubectl)('stock kubectl prints the three kinds with its columns and gets the quota refusal', async () => {
    const kubectl = (args: string[], input?: string) =>
      sh('kubectl', ['--kubeconfig', join(cluster.home, 'clusters', cluster.name, 'kubeconfig'), ...args], input === undefined ? {} : { input });
    expect((await kubectl(['get', 'limits', '-n', 'lr'])).stdout).toMatch(/^NAME\s+CREATED AT\ncpu-mem-defaults\s+\d{4}-/);
    expect((await kubectl(['get', 'quota', '-n', 'rq'])).stdout).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\npod-demo\s+\S+\s+pods: 2\/2/);
    expect((await kubectl(['get', 'pdb', '-n', 'pdb'])).stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb-pdb\s+1\s+N\/A\s+1\s+/);
    // kubectl's typed `create quota` (a protobuf body), then its describe.
    const created = await kubectl(['create', 'quota', 'counts', '-n', 'rq', '--hard=configmaps=5,count/deployments.apps=1']);
    expect(created.code, created.stderr).toBe(0);
    await quotaUsed('rq', 'counts', (used) => used['count/deployments.apps'] === '0');
    expect((await kubectl(['describe', 'quota', 'counts', '-n', 'rq'])).stdout).toMatch(/count\/deployments.apps\s+0\s+1/);
    const refused = await kubectl(['apply', '-f', '-'], podYaml('fourth', 'rq'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('pods "fourth" is forbidden: exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2');
  }, 60_000);
});
