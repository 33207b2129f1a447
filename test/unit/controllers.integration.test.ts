/**
 * All four controllers (through `startControllers`) against an in-process API server, the
 * scheduler and two in-process kubelets over FakeRuntime: scale-up, a rolling update checked at
 * every watch event, cascading (background and foreground) and orphaning deletion, and the
 * collection of pods whose owner never existed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS, PODS, type ResourceRef } from '../../src/client/client.js';
import type { KubeObject } from '../../src/api/types.js';
import { startControllers, type ControllerManager } from '../../src/controllers/manager.js';
import { CRONJOBS, DAEMONSETS, DEPLOYMENTS, inNamespace, JOBS, REPLICASETS, REPLICATIONCONTROLLERS, STATEFULSETS, type DeploymentObject, type PodObject, type ReplicaSetObject } from '../../src/controllers/types.js';
import type { Kubelet } from '../../src/kubelet/kubelet.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { activePodsOf, deploymentManifest, NS, replicaSetManifest, startKubelet, startTestCluster, type TestCluster } from './controllers.fixtures.js';

const dRef = inNamespace(DEPLOYMENTS, NS);
const rsRef = inNamespace(REPLICASETS, NS);
const podRef = inNamespace(PODS, NS);

let c: TestCluster;
let manager: ControllerManager;
let scheduler: Scheduler;
const kubelets: Kubelet[] = [];

beforeAll(async () => {
  c = await startTestCluster();
  kubelets.push(await startKubelet(c, 'node-1', 1), await startKubelet(c, 'node-2', 2));
  scheduler = new Scheduler({ client: c.client, log: c.log, backoff: { initialMs: 100, maxMs: 500 } });
  await scheduler.start();
  manager = await startControllers({ client: c.client, log: c.log });
});

afterAll(async () => {
  await manager?.stop();
  await scheduler?.stop();
  for (const k of kubelets) await k.stop();
  await c?.close();
});

const setsOf = (d: DeploymentObject | undefined) => c.sets.list().filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.uid === d?.metadata?.uid));
const readyPods = (app: string) => c.pods.list().filter((p) => p.metadata?.labels?.app === app && !p.metadata.deletionTimestamp
  && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));

/** What `kubectl rollout status` checks before it prints "successfully rolled out". */
function rolledOut(d: DeploymentObject | undefined): boolean {
  const s = d?.status;
  if (!d || !s || (d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0)) return false;
  const replicas = d.spec?.replicas ?? 1;
  return (s.updatedReplicas ?? 0) >= replicas && (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) && (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0)
    && d.status?.conditions?.find((x) => x.type === 'Progressing')?.reason === 'NewReplicaSetAvailable';
}

describe('controllers with a scheduler and two FakeRuntime kubelets', () => {
  it('scales a new Deployment from 0 to 10 ready replicas spread over both nodes', async () => {
    const start = Date.now();
    await c.client.create(dRef, deploymentManifest('ten', { replicas: 10 }));
    const d = await c.until('ten rolled out', () => (rolledOut(c.deployments.get(`${NS}/ten`)) ? c.deployments.get(`${NS}/ten`) : undefined), 20_000);
    const ms = Date.now() - start;
    c.log(`0 → 10 ready replicas in ${ms} ms`);
    console.log(`controllers: Deployment 0 → 10 ready replicas in ${ms} ms (2 FakeRuntime kubelets)`);
    expect(d.status).toMatchObject({ replicas: 10, updatedReplicas: 10, readyReplicas: 10, availableReplicas: 10 });
    expect(d.status?.conditions?.find((x) => x.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    const pods = readyPods('ten');
    expect(pods).toHaveLength(10);
    expect(new Set(pods.map((p) => p.spec?.nodeName))).toEqual(new Set(['node-1', 'node-2']));
    const [rs] = setsOf(d);
    expect(rs.metadata?.name).toMatch(/^ten-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(pods.every((p) => p.metadata?.generateName === `${rs.metadata?.name}-` && p.metadata.labels?.['pod-template-hash'] === rs.metadata?.labels?.['pod-template-hash'])).toBe(true);
    const events = await c.client.list<{ reason?: string; message?: string } & { metadata?: object }>(inNamespace({ group: '', version: 'v1', resource: 'events' }, NS));
    expect(events.items.map((e) => e.message)).toEqual(expect.arrayContaining([
      `Scaled up replica set ${rs.metadata?.name} from 0 to 10`, expect.stringMatching(new RegExp(`^Created pod: ${rs.metadata?.name}-`)),
    ]));
  }, 30_000);

  it('rolls out a new image with replicas 4, maxSurge 1, maxUnavailable 1 without breaking either bound', async () => {
    await c.client.create(dRef, deploymentManifest('roll', { replicas: 4, surge: 1, unavailable: 1 }));
    await c.until('roll rolled out', () => rolledOut(c.deployments.get(`${NS}/roll`)), 20_000);
    const violations: string[] = [];
    let maxTotal = 0;
    let minReady = Infinity;
    const check = () => {
      const sets = setsOf(c.deployments.get(`${NS}/roll`));
      const total = sets.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      const ready = readyPods('roll').length;
      maxTotal = Math.max(maxTotal, total);
      minReady = Math.min(minReady, ready);
      if (total > 5) violations.push(`ReplicaSets sum to ${total} > 4 + 1`);
      if (ready < 3) violations.push(`only ${ready} ready pods < 4 - 1`);
    };
    c.sets.addHandlers({ onUpdate: check, onAdd: check });
    c.pods.addHandlers({ onUpdate: check, onDelete: check });
    await c.client.patch(dRef, 'roll', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } });
    const d = await c.until('roll rolled out again', () => {
      const x = c.deployments.get(`${NS}/roll`);
      return x?.metadata?.generation === 2 && rolledOut(x) ? x : undefined;
    }, 20_000);
    expect(violations).toEqual([]);
    expect(maxTotal).toBe(5);
    expect(minReady).toBeGreaterThanOrEqual(3);
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const sets = setsOf(d);
    expect(sets.map((rs) => [rs.spec?.template?.spec?.containers[0].image, rs.spec?.replicas, rs.metadata?.annotations?.['deployment.kubernetes.io/revision']]).sort())
      .toEqual([['nginx:1', 0, '1'], ['nginx:2', 4, '2']]);
    expect(readyPods('roll').every((p) => p.spec?.containers[0].image === 'nginx:2')).toBe(true);
  }, 45_000);

  it('deletes a Deployment\'s ReplicaSets and pods after the Deployment (background cascade)', async () => {
    const d = c.deployments.get(`${NS}/ten`);
    const uids = new Set(setsOf(d).map((rs) => rs.metadata?.uid));
    expect(uids.size).toBe(1);
    await c.client.delete(dRef, 'ten');
    await c.until('ten\'s ReplicaSets and pods gone', () => setsOf(d).length === 0
      && !c.pods.list().some((p) => p.metadata?.ownerReferences?.some((r) => uids.has(r.uid)) && !p.metadata?.deletionTimestamp), 20_000);
    await c.until('ten\'s pods terminated', () => !c.pods.list().some((p) => p.metadata?.labels?.app === 'ten'), 20_000);
  }, 30_000);

  it('keeps a Deployment being deleted in the foreground until its ReplicaSets and pods are gone', async () => {
    const d = c.deployments.get(`${NS}/roll`);
    await c.client.delete(dRef, 'roll', { propagationPolicy: 'Foreground' });
    const marked = await c.client.get<DeploymentObject>(dRef, 'roll');
    expect(marked.metadata?.deletionTimestamp).toBeTruthy();
    expect(marked.metadata?.finalizers).toContain('foregroundDeletion');
    let podsLeftWhenGone = -1;
    await c.until('roll gone', () => {
      if (c.deployments.get(`${NS}/roll`)) return false;
      podsLeftWhenGone = c.pods.list().filter((p) => p.metadata?.labels?.app === 'roll').length;
      return true;
    }, 20_000);
    expect(podsLeftWhenGone).toBe(0);
    expect(setsOf(d)).toEqual([]);
  }, 30_000);

  it('keeps the pods, without owner, when a ReplicaSet is deleted with propagationPolicy Orphan', async () => {
    const rs = await c.client.create<ReplicaSetObject>(rsRef, replicaSetManifest('orphans', 2));
    await c.until('2 ready orphans-to-be', () => readyPods('orphans').length === 2, 20_000);
    await c.client.delete(rsRef, 'orphans', { propagationPolicy: 'Orphan' });
    await c.until('ReplicaSet gone', () => !c.sets.get(`${NS}/orphans`));
    await new Promise((r) => setTimeout(r, 1500));
    const left = c.pods.list().filter((p) => p.metadata?.labels?.app === 'orphans');
    expect(left).toHaveLength(2);
    expect(left.every((p) => !p.metadata?.deletionTimestamp && !p.metadata?.ownerReferences?.length)).toBe(true);
    expect(activePodsOf(c, rs.metadata?.uid)).toEqual([]);
  }, 30_000);

  it('adopts matching orphan pods into a new ReplicaSet instead of creating more', async () => {
    const rs = await c.client.create<ReplicaSetObject>(rsRef, replicaSetManifest('orphans', 3));
    const describe = () => JSON.stringify(c.pods.list().filter((p) => p.metadata?.labels?.app === 'orphans')
      .map((p) => [p.metadata?.name, p.metadata?.ownerReferences?.map((r) => r.uid), p.metadata?.deletionTimestamp]));
    await c.until('the 2 orphans adopted and 1 created', () => {
      c.log(`orphans: rs ${rs.metadata?.uid} status ${JSON.stringify(c.sets.get(`${NS}/orphans`)?.status)} pods ${describe()}`);
      return activePodsOf(c, rs.metadata?.uid).length === 3 && c.sets.get(`${NS}/orphans`)?.status?.replicas === 3;
    }, 20_000);
    expect(c.pods.list().filter((p) => p.metadata?.labels?.app === 'orphans')).toHaveLength(3);
    await c.client.delete(rsRef, 'orphans');
    await c.until('orphans pods gone', () => !c.pods.list().some((p) => p.metadata?.labels?.app === 'orphans'), 20_000);
  }, 30_000);

  it('deletes a pod whose only owner never existed', async () => {
    const pod: PodObject = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'stray', namespace: NS, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'ghost', uid: 'no-such-uid' }] },
      spec: { containers: [{ name: 'app', image: 'nginx:1' }], terminationGracePeriodSeconds: 1 },
    };
    await c.client.create(podRef, pod);
    await c.until('stray pod gone', () => !c.pods.get(`${NS}/stray`), 20_000);
  }, 30_000);

  const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }], terminationGracePeriodSeconds: 1 } });
  const selector = (app: string) => ({ matchLabels: { app } });
  const owners: { kind: string; ref: ResourceRef; manifest: (name: string) => KubeObject; podsToo: boolean }[] = [
    { kind: 'DaemonSet', ref: DAEMONSETS, podsToo: true, manifest: (n) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: n }, spec: { selector: selector(n), template: template(n) } }) },
    { kind: 'StatefulSet', ref: STATEFULSETS, podsToo: true, manifest: (n) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: n }, spec: { replicas: 1, serviceName: n, selector: selector(n), template: template(n) } }) },
    { kind: 'Job', ref: JOBS, podsToo: true, manifest: (n) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: n }, spec: { template: { ...template(n), spec: { ...template(n).spec, restartPolicy: 'Never' } } } }) },
    { kind: 'ReplicationController', ref: REPLICATIONCONTROLLERS, podsToo: true, manifest: (n) => ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: n }, spec: { replicas: 1, selector: { app: n }, template: template(n) } }) },
    { kind: 'CronJob', ref: CRONJOBS, podsToo: false, manifest: (n) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: n }, spec: { schedule: '0 0 1 1 *', jobTemplate: { spec: { template: { ...template(n), spec: { ...template(n).spec, restartPolicy: 'Never' } } } } } }) },
  ];
  it.each(owners)('deletes what a $kind owns (its pods and a ConfigMap naming it as owner) after the $kind (background cascade)', async ({ kind, ref, manifest, podsToo }) => {
    const name = `gc-${kind.toLowerCase()}`;
    const owner = await c.client.create<KubeObject>(inNamespace(ref, NS), manifest(name));
    const cmRef = inNamespace(CONFIGMAPS, NS);
    const configMaps = await c.follow<KubeObject>(CONFIGMAPS);
    await c.client.create(cmRef, {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name, ownerReferences: [{ apiVersion: owner.apiVersion ?? '', kind, name, uid: owner.metadata?.uid ?? '' }] }, data: { a: 'b' },
    });
    const owned = () => c.pods.list().filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === owner.metadata?.uid));
    if (podsToo) await c.until(`a pod of ${name}`, () => owned().length > 0, 20_000);
    await c.client.delete(inNamespace(ref, NS), name, { propagationPolicy: 'Background' });
    await c.until(`${name}'s pods and ConfigMap gone`, () => owned().length === 0 && !configMaps.get(`${NS}/${name}`), 20_000);
  }, 30_000);
});
