/**
 * The identity and storage controllers against a real API server (in-memory store, real HTTP),
 * with the host directories faked in memory: default ServiceAccounts and the root CA ConfigMap
 * in every namespace; a claim provisioned once a node is selected, bound both ways, and its
 * volume and directory removed when the claim goes; the claim kept while a pod uses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, WatchEvent } from '../../src/api/types.js';
import { serviceAccountAdmission } from '../../src/apiserver/admission/serviceaccount.js';
import { defaultStorageClassAdmission, storageProtectionAdmission } from '../../src/apiserver/admission/storage.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, NAMESPACES, PODS, type ResourceRef } from '../../src/client/client.js';
import { startControllers, type ControllerManager } from '../../src/controllers/manager.js';
import type { HostDirectories } from '../../src/controllers/volume/provisioner.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { generateSigningKey } from '../../src/apiserver/auth/signingkey.js';
import { TokenIssuer } from '../../src/apiserver/auth/tokens.js';

const issuer = new TokenIssuer(await generateSigningKey());

class MemoryDirectories implements HostDirectories {
  readonly dirs = new Set<string>();
  async create(name: string): Promise<string> {
    this.dirs.add(`/volumes/${name}`);
    return `/volumes/${name}`;
  }
  async remove(path: string): Promise<void> {
    this.dirs.delete(path);
  }
  owns(path: string): boolean {
    return path.startsWith('/volumes/');
  }
}

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; data?: Record<string, string> };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: 'default' };
const PVS = { group: '', version: 'v1', resource: 'persistentvolumes' };

let server: ApiServer;
let client: ApiClient;
let controllers: ControllerManager;
const dirs = new MemoryDirectories();

/** Resolves with the first object of `ref` named `name` that satisfies `ok` (by watch); undefined = deleted. */
function waitFor(ref: ResourceRef, name: string, ok: (o: Obj | undefined) => boolean, ms = 10_000): Promise<Obj | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out waiting for ${ref.resource}/${name}`)); }, ms);
    const h = client.watch<Obj>(ref, { fieldSelector: `metadata.name=${name}` }, (e: WatchEvent<Obj>) => {
      const o = e.type === 'DELETED' ? undefined : e.object;
      if (e.type !== 'ERROR' && ok(o)) {
        clearTimeout(timer);
        h.stop();
        resolve(o);
      }
    });
    // A DELETED that happened before the watch began is seen as "never ADDED": check the list too.
    void client.get<Obj>(ref, name).catch(() => undefined).then((o) => {
      if (!o && ok(undefined)) {
        clearTimeout(timer);
        h.stop();
        resolve(undefined);
      }
    });
  });
}

beforeAll(async () => {
  server = await startApiServer({
    store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 't', tokenIssuer: issuer,
    admission: [serviceAccountAdmission, defaultStorageClassAdmission, storageProtectionAdmission],
  });
  client = new ApiClient({ server: server.url, token: 't' });
  controllers = await startControllers({ client, log: () => undefined, rootCA: 'CA-PEM', volumeDirectories: dirs, tokenSigner: issuer });
});
afterAll(async () => {
  await controllers?.stop();
  await server?.close();
});

describe('service accounts and the root CA', () => {
  it('a new namespace gets a default ServiceAccount and kube-root-ca.crt', async () => {
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    expect(await waitFor({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'team-a' }, 'default', (o) => !!o)).toBeDefined();
    const cm = await waitFor({ group: '', version: 'v1', resource: 'configmaps', namespace: 'team-a' }, 'kube-root-ca.crt', (o) => !!o);
    expect(cm?.data).toEqual({ 'ca.crt': 'CA-PEM' });
  });
  it('puts back a deleted default ServiceAccount', async () => {
    const ref = { group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'team-a' };
    await client.delete(ref, 'default');
    expect(await waitFor(ref, 'default', (o) => !!o)).toBeDefined();
  });
});

describe('long-lived token Secrets', () => {
  it('fills in a service-account-token Secret, whose token works until its account goes', async () => {
    const sas = { group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'team-a' };
    const secrets = { group: '', version: 'v1', resource: 'secrets', namespace: 'team-a' };
    const sa = await client.create<Obj>(sas, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'build-robot' } });
    await client.create(secrets, { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
      metadata: { name: 'build-robot-secret', annotations: { 'kubernetes.io/service-account.name': 'build-robot' } } } as KubeObject);
    const filled = await waitFor(secrets, 'build-robot-secret', (o) => !!o?.data?.token);
    expect(filled?.metadata?.annotations?.['kubernetes.io/service-account.uid']).toBe(sa.metadata?.uid);
    expect(Buffer.from(filled?.data?.namespace ?? '', 'base64').toString()).toBe('team-a');
    expect(Buffer.from(filled?.data?.['ca.crt'] ?? '', 'base64').toString()).toBe('CA-PEM');
    const token = Buffer.from(filled?.data?.token ?? '', 'base64').toString();
    const asRobot = (path: string) => fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    const res = await asRobot('/api/v1/namespaces/team-a/pods');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('User "system:serviceaccount:team-a:build-robot" cannot list resource "pods"');
    await client.delete(sas, 'build-robot');
    await waitFor(secrets, 'build-robot-secret', (o) => o === undefined);
    expect((await asRobot('/api')).status).toBe(401);
  });
});

describe('claims and volumes', () => {
  it('the default class exists', async () => {
    const sc = await waitFor({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, 'standard', (o) => !!o);
    expect(sc).toMatchObject({ provisioner: 'minikube-lite.io/hostpath', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' });
  });

  it('provisions a claim once a node is selected, binds it, and removes volume and directory with the claim', async () => {
    const claim = await client.create<Obj>(PVCS, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    } as KubeObject);
    expect(claim.spec?.storageClassName).toBe('standard');
    // The scheduler's part, for a pod using the claim:
    await client.patch(PVCS, 'data', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-1' } } });
    const bound = await waitFor(PVCS, 'data', (o) => o?.status?.phase === 'Bound');
    const pvName = `pvc-${claim.metadata?.uid}`;
    expect(bound?.spec?.volumeName).toBe(pvName);
    expect(bound?.status).toMatchObject({ phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] });
    expect(bound?.metadata?.annotations).toMatchObject({ 'pv.kubernetes.io/bind-completed': 'yes', 'volume.kubernetes.io/storage-provisioner': 'minikube-lite.io/hostpath' });
    const pv = await waitFor(PVS, pvName, (o) => o?.status?.phase === 'Bound');
    expect(pv?.spec).toMatchObject({ hostPath: { path: `/volumes/${pvName}_default_data` }, persistentVolumeReclaimPolicy: 'Delete', claimRef: { name: 'data', uid: claim.metadata?.uid } });
    expect([...dirs.dirs]).toEqual([`/volumes/${pvName}_default_data`]);

    // A pod using the claim keeps it (pvc-protection) until the pod goes.
    await waitFor({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, 'default', (o) => !!o);
    await client.create({ ...PODS, namespace: 'default' }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user' }, spec: {
      automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
    } } as KubeObject);
    await client.delete(PVCS, 'data');
    const terminating = await client.get<Obj>(PVCS, 'data');
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    await client.delete({ ...PODS, namespace: 'default' }, 'user', { gracePeriodSeconds: 0 });
    await waitFor(PVCS, 'data', (o) => o === undefined);
    await waitFor(PVS, pvName, (o) => o === undefined);
    expect([...dirs.dirs]).toEqual([]);
  });
});
