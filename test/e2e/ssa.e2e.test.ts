/**
 * Server-side apply on a real cluster (real containers on the real Docker engine), with the
 * clients users have: stock kubectl (`apply --server-side` creating a Deployment whose pods
 * run, a conflict with `kubectl scale` in kubectl's words, `--force-conflicts`, the move from
 * client-side apply, `--show-managed-fields` naming the controllers and kubelet), and
 * @kubernetes/client-node (`KubernetesObjectApi.patch` with `PatchStrategy.ServerSideApply`,
 * and an informer seeing the test's pod added, updated and deleted). Skipped with a printed
 * reason where Docker or kubectl is absent.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, makeInformer, PatchStrategy, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { TestCluster, dockerAvailable, sh, useCluster } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
if (!hasDocker || !hasKubectl) console.log(`server-side apply e2e skipped: ${!hasDocker ? 'no Docker engine' : 'no kubectl'}`);

interface Entry { manager: string; operation: string; subresource?: string; fieldsV1: Record<string, unknown> }
type Managed = { metadata: { managedFields?: Entry[] } };

describe.skipIf(!hasDocker || !hasKubectl)('server-side apply on a real cluster', () => {
  const cluster = new TestCluster(`e2e-ssa-${process.pid}`, '10.254.0.0/16');
  const kubeconfig = () => join(cluster.home, 'clusters', cluster.name, 'kubeconfig');
  const kubectl = (args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig(), ...args]);
  const file = (name: string, lines: string[]): string => {
    const path = join(cluster.home, name);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  };
  const deployment = (replicas: number): string[] => [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', '  namespace: default', 'spec:', `  replicas: ${replicas}`,
    '  selector:', '    matchLabels: {app: web}', '  template:', '    metadata:', '      labels: {app: web}', '    spec:', '      containers:',
    '      - name: nginx', '        image: nginx', '        ports:', '        - containerPort: 80',
  ];
  const managedOf = async (args: string[]): Promise<Entry[]> =>
    (JSON.parse((await kubectl(['get', ...args, '-o', 'json', '--show-managed-fields'])).stdout) as Managed).metadata.managedFields ?? [];

  useCluster(cluster);

  it('kubectl apply --server-side creates a Deployment that rolls out; its managedFields name kubectl, the controller and the kubelet', async () => {
    const r = await kubectl(['apply', '--server-side', '-f', file('web.yaml', deployment(1))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('deployment.apps/web serverside-applied\n');
    const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    expect(rollout.code, rollout.stderr).toBe(0);
    const managed = await managedOf(['deployment', 'web']);
    expect(managed.map((m) => [m.manager, m.operation, m.subresource])).toEqual([
      ['kubectl', 'Apply', undefined],
      ['kube-controller-manager', 'Update', 'status'],
    ]);
    expect(managed[0].fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': {
      '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
    } } } } } });
    const pod = JSON.parse((await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json', '--show-managed-fields'])).stdout) as { items: Managed[] };
    const podManagers = pod.items[0].metadata.managedFields?.map((m) => [m.manager, m.subresource]);
    expect(podManagers).toContainEqual(['kube-controller-manager', undefined]);
    expect(podManagers).toContainEqual(['kubelet', 'status']);
    // kubectl hides them unless asked.
    expect((await kubectl(['get', 'deployment', 'web', '-o', 'yaml'])).stdout).not.toContain('managedFields');
  }, 150_000);

  it('a replica count set by kubectl scale conflicts with apply in kubectl\'s words; --force-conflicts takes it', async () => {
    const s = await kubectl(['scale', 'deployment', 'web', '--replicas=2']);
    expect(s.code, s.stderr).toBe(0);
    const conflict = await kubectl(['apply', '--server-side', '-f', file('web3.yaml', deployment(3))]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl" using apps\/v1: \.spec\.replicas\nPlease review the fields above--they currently have other managers\./);
    expect(conflict.stderr).toContain('--force-conflicts');
    expect((await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('2');
    const forced = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(cluster.home, 'web3.yaml')]);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('3');
    const managed = await managedOf(['deployment', 'web']);
    const scale = managed.find((m) => m.subresource === 'scale');
    // The scale entry lost its only field, so it is gone.
    expect(scale).toBeUndefined();
    const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    expect(rollout.code, rollout.stderr).toBe(0);
  }, 150_000);

  it('moves a client-side applied ConfigMap to server-side apply, which then removes the key it no longer applies', async () => {
    const cm = (data: string[]): string[] => ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: settings', 'data:', ...data];
    const csa = await kubectl(['apply', '-f', file('cm.yaml', cm(['  a: "1"', '  b: "2"']))]);
    expect(csa.stdout).toBe('configmap/settings created\n');
    expect((await managedOf(['configmap', 'settings'])).map((m) => m.manager)).toEqual(['kubectl-client-side-apply']);
    const ssa = await kubectl(['apply', '--server-side', '-f', file('cm2.yaml', cm(['  a: "1"']))]);
    expect(ssa.code, ssa.stderr).toBe(0);
    expect(JSON.parse((await kubectl(['get', 'configmap', 'settings', '-o', 'jsonpath={.data}'])).stdout)).toEqual({ a: '1' });
    expect((await managedOf(['configmap', 'settings'])).map((m) => [m.manager, m.operation])).toEqual([['kubectl', 'Apply'], ['kubectl-last-applied', 'Apply']]);
  }, 60_000);

  it('minikube-lite apply is client-side apply that kubectl apply --server-side takes over; minikube-lite get hides managedFields unless asked', async () => {
    const cm = (data: string[]): string[] => ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: mkl', 'data:', ...data];
    const r = await cluster.cli(['apply', '-f', file('mkl.yaml', cm(['  a: "1"', '  b: "2"']))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('configmap/mkl created\n');
    expect((await managedOf(['configmap', 'mkl'])).map((m) => [m.manager, m.operation])).toEqual([['kubectl-client-side-apply', 'Update']]);
    const ssa = await kubectl(['apply', '--server-side', '-f', file('mkl2.yaml', cm(['  a: "1"']))]);
    expect(ssa.code, ssa.stderr).toBe(0);
    expect(JSON.parse((await kubectl(['get', 'configmap', 'mkl', '-o', 'jsonpath={.data}'])).stdout)).toEqual({ a: '1' });
    expect((await cluster.cli(['get', 'configmap', 'mkl', '-o', 'yaml'])).stdout).not.toContain('managedFields');
    const shown = await cluster.cli(['get', 'configmap', 'mkl', '-o', 'yaml', '--show-managed-fields']);
    expect(shown.stdout).toContain('manager: kubectl\n');
    // minikube-lite's own server-side apply: a conflict with kubectl's manager, then forced.
    const mine = file('mkl3.yaml', cm(['  a: "3"']));
    const refused = await cluster.cli(['apply', '--server-side', '-f', mine]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl": \.data\.a\nPlease review the fields above/);
    const forced = await cluster.cli(['apply', '--server-side', '--force-conflicts', '-f', mine]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toBe('configmap/mkl serverside-applied\n');
    expect((await managedOf(['configmap', 'mkl'])).map((m) => [m.manager, m.operation, m.fieldsV1])).toContainEqual(['minikube-lite', 'Apply', { 'f:data': { 'f:a': {} } }]);
    // Writes from the minikube-lite CLI itself are named after its User-Agent.
    const scaled = await cluster.cli(['scale', 'deployment', 'web', '--replicas=2']);
    expect(scaled.code, scaled.stderr).toBe(0);
    expect((await managedOf(['deployment', 'web'])).map((m) => [m.manager, m.subresource])).toContainEqual(['minikube-lite', 'scale']);
  }, 60_000);

  it('client-node applies a pod server-side and its informer sees it added, updated and deleted', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig());
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=informed' }), 'app=informed');
    const seen: [string, V1Pod][] = [];
    const waiters: { ok: (e: [string, V1Pod]) => boolean; resolve: () => void }[] = [];
    const record = (type: string) => (pod: V1Pod): void => {
      seen.push([type, pod]);
      for (const w of [...waiters]) if (w.ok([type, pod])) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    };
    const until = (ok: (e: [string, V1Pod]) => boolean): Promise<void> =>
      seen.some(ok) ? Promise.resolve() : new Promise((resolve) => waiters.push({ ok, resolve }));
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    await informer.start();
    try {
      const pod = (label: string): V1Pod => ({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'informed', namespace: 'default', labels: { app: 'informed', step: label } },
        spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 },
      });
      const created = await objects.patch(pod('one'), undefined, undefined, 'e2e-client-node', true, PatchStrategy.ServerSideApply);
      expect(created.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['e2e-client-node', 'Apply']]);
      await until(([t, p]) => t === 'add' && p.metadata?.name === 'informed');
      await until(([t, p]) => t === 'update' && p.status?.phase === 'Running');
      const updated = await objects.patch(pod('two'), undefined, undefined, 'e2e-client-node', true, PatchStrategy.ServerSideApply);
      expect(updated.metadata?.labels?.step).toBe('two');
      await until(([t, p]) => t === 'update' && p.metadata?.labels?.step === 'two');
      // Another manager changing an applied field conflicts; client-node surfaces the 409.
      await expect(objects.patch({ ...pod('three'), metadata: { name: 'informed', namespace: 'default', labels: { step: 'three' } } },
        undefined, undefined, 'someone-else', false, PatchStrategy.ServerSideApply)).rejects.toMatchObject({ code: 409 });
      await objects.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'informed', namespace: 'default' } }, undefined, undefined, 0);
      await until(([t, p]) => t === 'delete' && p.metadata?.name === 'informed');
      expect(seen.filter(([t]) => t === 'add')).toHaveLength(1);
    } finally {
      await informer.stop();
    }
  }, 120_000);
});
