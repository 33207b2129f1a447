/**
 * Service accounts, RBAC and persistent storage on a real Docker engine, through the real CLI
 * and the real kubectl: a pod's mounted service-account token is accepted by the API server and
 * authorized by RBAC (a RoleBinding lets it list pods; nodes stay 403 with Kubernetes'
 * message); `create token` tokens work with kubectl; a claim of the default class is
 * provisioned for its first consumer, written by one pod, read by the next, and its directory
 * removed with the claim; a pod whose claim is unbound waits with the scheduler's reason until a
 * static PV binds it; `down` removes the volume directories.
 *
 * The pod's token is used both from inside the pod (curl to https://kubernetes.default.svc with
 * the mounted ca.crt, through the `kubernetes` Service) and, read out of the pod, from the host.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { ApiClient } from '../../src/client/client.js';
import { readClusterConfig } from '../../src/cli/context.js';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasCurlImage = (await sh('docker', ['image', 'inspect', 'curlimages/curl:latest'])).code === 0;
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
const ex = (f: string) => join(ROOT, 'examples', f);
const finished = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

describe.skipIf(!hasDocker)('service accounts, RBAC and storage on a real Docker engine', () => {
  const cluster = new TestCluster(`e2e-idn-${process.pid}`, '10.220.0.0/16');
  const dir = () => join(cluster.home, 'clusters', cluster.name);
  const server = () => readClusterConfig(cluster.home, cluster.name)?.server ?? '';
  const kubectl = (args: string[]) => sh('kubectl', ['--kubeconfig', join(dir(), 'kubeconfig'), ...args]);

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
  }, 120_000);

  it('gives every namespace a default ServiceAccount and the kube-root-ca.crt ConfigMap, and has a default StorageClass', async () => {
    const sa = await cluster.cli(['get', 'serviceaccounts', '-A']);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(sa.stdout).toMatch(new RegExp(`^${ns}\\s+default\\s+0\\s`, 'm'));
    const ca = await cluster.cli(['get', 'configmap', 'kube-root-ca.crt', '-o', 'jsonpath={.data.ca\\.crt}']);
    expect(ca.stdout).toContain('-----BEGIN CERTIFICATE-----');
    const sc = await cluster.cli(['get', 'storageclass']);
    expect(sc.stdout).toMatch(/^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/m);
    expect(sc.stdout).toMatch(/^standard \(default\)\s+minikube-lite\.io\/hostpath\s+Delete\s+WaitForFirstConsumer\s+false\s/m);
  }, 60_000);

  it('mounts a token the API server accepts, authorized by RBAC, and refused once the pod is gone', async () => {
    expect((await cluster.cli(['apply', '-f', ex('token-pod.yaml')])).code).toBe(0);
    await cluster.waitForPod('token-pod', isRunning);
    const files = await cluster.cli(['exec', 'token-pod', '--', 'ls', SA_DIR]);
    expect(files.stdout.split('\n').filter(Boolean).sort()).toEqual(['ca.crt', 'namespace', 'token']);
    const token = (await cluster.cli(['exec', 'token-pod', '--', 'cat', `${SA_DIR}/token`])).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const asPod = new ApiClient({ server: server(), token });
    const pods = () => asPod.raw('GET', '/api/v1/namespaces/default/pods');

    let res = await pods();
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message)
      .toBe('pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"');
    expect((await cluster.cli(['apply', '-f', ex('rbac-pod-reader.yaml')])).code).toBe(0);
    res = await pods();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: Pod[] }).items.map((p) => p.metadata?.name)).toContain('token-pod');
    res = await asPod.raw('GET', '/api/v1/nodes');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message)
      .toBe('nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope');

    // The token is bound to the pod: it dies with it.
    await cluster.cli(['delete', 'pod', 'token-pod', '--grace-period', '0', '--force']);
    expect((await pods()).status).toBe(401);
  }, 120_000);

  it.skipIf(!hasCurlImage)('a pod calls the API server at https://kubernetes.default.svc with its token and CA (curlimages/curl from scripts/images.sh)', async () => {
    expect((await cluster.cli(['apply', '-f', ex('api-client-pod.yaml')])).code).toBe(0);
    const pod = await cluster.waitForPod('api-client', finished, 90_000);
    const logs = (await cluster.cli(['logs', 'api-client'])).stdout;
    expect(pod.status?.phase, logs).toBe('Succeeded');
    expect(logs).toContain('api/v1/namespaces/default/pods 200\n');
    expect(logs).toContain('api/v1/nodes 403\n');
    const status = JSON.parse(logs.slice(logs.indexOf('{'))) as { message: string; reason: string };
    expect([status.reason, status.message]).toEqual(['Forbidden',
      'nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope']);
  }, 120_000);

  it.skipIf(!hasKubectl)('create token (ours and kubectl\'s) gives tokens kubectl can use, with RBAC deciding what they may do', async () => {
    const created = await cluster.cli(['create', 'token', 'default', '--duration', '10m']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const pods = await kubectl(['--token', token, 'get', 'pods']);
    expect(pods.code, pods.stderr).toBe(0);
    const nodes = await kubectl(['--token', token, 'get', 'nodes']);
    expect(nodes.code).not.toBe(0);
    expect(nodes.stderr).toContain('Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope');
    // kubectl's own create token (a protobuf TokenRequest) and auth can-i (SelfSubjectAccessReview).
    const viaKubectl = await kubectl(['create', 'token', 'default', '--duration', '15m']);
    expect(viaKubectl.code, viaKubectl.stderr).toBe(0);
    expect((await kubectl(['--token', viaKubectl.stdout.trim(), 'auth', 'can-i', 'list', 'pods'])).stdout.trim()).toBe('yes');
    expect((await kubectl(['auth', 'can-i', 'list', 'nodes', '--as', 'system:serviceaccount:default:default'])).stdout.trim()).toBe('no');
    // A long-lived token Secret, as in Kubernetes' docs.
    expect((await cluster.cli(['apply', '-f', ex('sa-token-secret.yaml')])).code).toBe(0);
    const secretToken = await cluster.cli(['wait', '--for=jsonpath={.data.token}', 'secret/build-robot-secret', '--timeout=30s']);
    expect(secretToken.code, secretToken.stderr).toBe(0);
    const b64 = (await cluster.cli(['get', 'secret', 'build-robot-secret', '-o', 'jsonpath={.data.token}'])).stdout;
    const robot = await kubectl(['--token', Buffer.from(b64, 'base64').toString(), 'get', 'pods']);
    expect(robot.stderr).toContain('User "system:serviceaccount:default:build-robot" cannot list resource "pods"');
    const bindings = await kubectl(['get', 'rolebindings', '-o', 'wide']);
    expect(bindings.stdout).toMatch(/^read-pods\s+Role\/pod-reader\s+\S+\s+default\/default$/m);
  }, 60_000);

  it('provisions a claim of the default class for its first consumer; the data outlives the pod and goes with the claim', async () => {
    expect((await cluster.cli(['apply', '-f', ex('pvc-writer.yaml')])).code).toBe(0);
    const writer = await cluster.waitForPod('writer', finished);
    expect(writer.status?.phase).toBe('Succeeded');
    const pvc = await cluster.cli(['get', 'pvc', 'data']);
    expect(pvc.stdout).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/m);
    const row = /^data\s+Bound\s+(pvc-[0-9a-f-]+)\s+1Gi\s+RWO\s+standard\s+<unset>\s/m.exec(pvc.stdout);
    expect(row, pvc.stdout).not.toBeNull();
    const volume = row?.[1] ?? '';
    const pv = await cluster.cli(['get', 'pv', volume]);
    expect(pv.stdout).toMatch(new RegExp(`^${volume}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+standard\\s`, 'm'));
    const events = await cluster.cli(['get', 'events', '--field-selector', 'involvedObject.name=data']);
    expect(events.stdout).toMatch(/Normal\s+ProvisioningSucceeded\s+persistentvolumeclaim\/data\s+Successfully provisioned volume pvc-/);
    const volumes = join(dir(), 'volumes');
    expect(readdirSync(volumes)).toEqual([`${volume}_default_data`]);

    await cluster.cli(['delete', 'pod', 'writer']);
    expect((await cluster.cli(['apply', '-f', ex('pvc-reader.yaml')])).code).toBe(0);
    await cluster.waitForPod('reader', finished);
    expect((await cluster.cli(['logs', 'reader'])).stdout).toBe('written by writer\n');
    await cluster.cli(['delete', 'pod', 'reader']);

    const del = await cluster.cli(['delete', 'pvc', 'data']);
    expect(del.code, del.stderr).toBe(0);
    const gone = await cluster.cli(['wait', '--for=delete', `pv/${volume}`, '--timeout=60s']);
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect(readdirSync(volumes)).toEqual([]);
  }, 180_000);

  it('keeps a pod Pending with the scheduler\'s reason while its claim is unbound, and runs it once a static PV binds', async () => {
    const claim = [
      'apiVersion: v1', 'kind: PersistentVolumeClaim', 'metadata: {name: static}',
      'spec: {storageClassName: "", accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}', '---',
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: static-user}',
      'spec: {restartPolicy: Never, containers: [{name: c, image: busybox, command: [sh, -c, "echo static > /data/f && cat /data/f"], volumeMounts: [{name: d, mountPath: /data}]}],',
      '  volumes: [{name: d, persistentVolumeClaim: {claimName: static}}]}', '',
    ].join('\n');
    expect((await cluster.cli(['apply', '-f', '-'], { input: claim })).code).toBe(0);
    const pending = await cluster.waitForPod('static-user', (p) => (p.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False'));
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe('0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.');
    const hostDir = join(cluster.home, 'static-pv');
    const pv = [
      'apiVersion: v1', 'kind: PersistentVolume', 'metadata: {name: static-pv}',
      `spec: {storageClassName: "", capacity: {storage: 2Gi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Retain, hostPath: {path: ${hostDir}, type: DirectoryOrCreate}}`, '',
    ].join('\n');
    expect((await cluster.cli(['apply', '-f', '-'], { input: pv })).code).toBe(0);
    const done = await cluster.waitForPod('static-user', finished);
    expect(done.status?.phase).toBe('Succeeded');
    expect(existsSync(join(hostDir, 'f'))).toBe(true);
    await cluster.cli(['delete', 'pod', 'static-user']);
    await cluster.cli(['delete', 'pvc', 'static']);
    // Retain: the volume stays, Released, with its data.
    const released = await cluster.cli(['wait', '--for=jsonpath={.status.phase}=Released', 'pv/static-pv', '--timeout=60s']);
    expect(released.code, released.stderr).toBe(0);
    expect(existsSync(join(hostDir, 'f'))).toBe(true);
  }, 120_000);

  it('down removes the cluster\'s volume directories', async () => {
    const claim = (await cluster.cli(['apply', '-f', ex('pvc-writer.yaml')]));
    expect(claim.code).toBe(0);
    await cluster.waitForPod('writer', finished);
    expect(readdirSync(join(dir(), 'volumes'))).toHaveLength(1);
    const down = await cluster.cli(['down']);
    expect(down.code).toBe(0);
    expect(existsSync(join(dir(), 'volumes'))).toBe(false);
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);
});
