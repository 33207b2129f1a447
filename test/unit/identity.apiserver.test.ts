/**
 * Identity and storage through the real API server (in-memory store, real HTTP): TokenRequest,
 * service-account bearer tokens authorized by RBAC with Kubernetes' 401/403 answers, the
 * ServiceAccount admission plugin on pods, default-class and protection admission on claims,
 * and validation of the new kinds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { RESOURCES } from '../../src/api/registry.js';
import type { Pod } from '../../src/api/types.js';
import { serviceAccountAdmission } from '../../src/apiserver/admission/serviceaccount.js';
import { defaultStorageClassAdmission, storageProtectionAdmission } from '../../src/apiserver/admission/storage.js';
import { generateSigningKey } from '../../src/apiserver/auth/signingkey.js';
import { TokenIssuer } from '../../src/apiserver/auth/tokens.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, NODES, PODS } from '../../src/client/client.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const SA = { group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'default' };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: 'default' };
const PVS = { group: '', version: 'v1', resource: 'persistentvolumes' };
const SCS = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
const ROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', namespace: 'default' };
const ROLEBINDINGS = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', namespace: 'default' };
const CLUSTERROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };

let server: ApiServer;
let admin: ApiClient;
let now = new Date();

const pod = (name: string, extra: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
});

async function tokenFor(name: string, body: Record<string, unknown> = {}): Promise<string> {
  const tr = await admin.createSubresource<{ status: { token: string } }>(SA, name, 'token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {}, ...body });
  return tr.status.token;
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  server = await startApiServer({
    store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 'admin-token', clock: () => now,
    tokenIssuer: new TokenIssuer(await generateSigningKey(), undefined, () => now),
    admission: [serviceAccountAdmission, defaultStorageClassAdmission, storageProtectionAdmission],
  });
  admin = new ApiClient({ server: server.url, token: 'admin-token' });
  await admin.create(SA, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
});
afterAll(async () => server?.close());

describe('TokenRequest', () => {
  it('issues a token for an existing account with the default lifetime', async () => {
    const tr = await admin.createSubresource<{ spec: { audiences: string[]; expirationSeconds: number }; status: { token: string; expirationTimestamp: string } }>(
      SA, 'default', 'token', { spec: {} });
    expect(tr.spec).toEqual({ audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 });
    expect(tr.status.token.split('.')).toHaveLength(3);
  });
  it('refuses a lifetime under ten minutes with the field path', async () => {
    const e = await failure(admin.createSubresource(SA, 'default', 'token', { spec: { expirationSeconds: 599 } }));
    expect(e.code).toBe(422);
    expect(e.message).toBe('TokenRequest.authentication.k8s.io "default" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes');
  });
  it('answers 404 for a missing account', async () => {
    const e = await failure(admin.createSubresource(SA, 'nobody', 'token', { spec: {} }));
    expect([e.code, e.message]).toEqual([404, 'serviceaccounts "nobody" not found']);
  });
});

describe('service-account bearer tokens', () => {
  it('are authorized by RBAC: 403 with Kubernetes\' message until a RoleBinding allows the request', async () => {
    const client = new ApiClient({ server: server.url, token: await tokenFor('default') });
    let e = await failure(client.list(PODS_IN_DEFAULT));
    expect([e.code, e.reason, e.message]).toEqual([403, 'Forbidden',
      'pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"']);
    await admin.create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] });
    await admin.create(ROLEBINDINGS, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'read-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'default' }] });
    expect((await client.list(PODS_IN_DEFAULT)).kind).toBe('PodList');
    e = await failure(client.list(NODES));
    expect([e.code, e.message]).toEqual([403, 'nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope']);
    e = await failure(client.create({ ...PODS, namespace: 'default' }, pod('nope')));
    expect(e.message).toBe('pods is forbidden: User "system:serviceaccount:default:default" cannot create resource "pods" in API group "" in the namespace "default"');
    const discovery = await client.raw('GET', '/api');
    expect(discovery.status).toBe(200);
    // The authorizer keeps the policy it read, and forgets it when RBAC changes.
    const rb = await admin.get(ROLEBINDINGS, 'read-pods');
    await admin.delete(ROLEBINDINGS, 'read-pods');
    e = await failure(client.list(PODS_IN_DEFAULT));
    expect(e.code).toBe(403);
    await admin.create(ROLEBINDINGS, { ...rb, metadata: { name: 'read-pods' } });
    expect((await client.list(PODS_IN_DEFAULT)).kind).toBe('PodList');
  });
  it('stop working when their account is deleted', async () => {
    await admin.create(SA, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'temp' } });
    const client = new ApiClient({ server: server.url, token: await tokenFor('temp') });
    expect((await client.raw('GET', '/api')).status).toBe(200);
    await admin.delete(SA, 'temp');
    expect((await client.raw('GET', '/api')).status).toBe(401);
  });
  it('bound to a pod stop working when the pod is deleted', async () => {
    const p = await admin.create<Pod>({ ...PODS, namespace: 'default' }, pod('bound'));
    const client = new ApiClient({ server: server.url, token: await tokenFor('default', { spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: p.metadata?.uid } } }) });
    expect((await client.raw('GET', '/api')).status).toBe(200);
    await admin.delete({ ...PODS, namespace: 'default' }, 'bound', { gracePeriodSeconds: 0 });
    expect((await client.raw('GET', '/api')).status).toBe(401);
  });
  it('stop working once expired', async () => {
    const client = new ApiClient({ server: server.url, token: await tokenFor('default', { spec: { expirationSeconds: 600 } }) });
    now = new Date(now.getTime() + 601_000);
    try {
      expect((await client.raw('GET', '/api')).status).toBe(401);
    } finally {
      now = new Date();
    }
  });
  it('anything else is 401', async () => {
    expect((await new ApiClient({ server: server.url, token: 'not-a-token' }).raw('GET', '/api')).status).toBe(401);
  });
});

const PODS_IN_DEFAULT = { ...PODS, namespace: 'default' };

describe('ServiceAccount admission', () => {
  it('runs pods as "default" with the kube-api-access volume mounted in every container', async () => {
    const p = await admin.create<Pod>(PODS_IN_DEFAULT, pod('web', { initContainers: [{ name: 'init', image: 'busybox' }] }));
    expect(p.spec?.serviceAccountName).toBe('default');
    expect(p.spec?.serviceAccount).toBe('default');
    const vol = p.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(vol?.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol?.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) {
      expect(c.volumeMounts).toContainEqual({ name: vol?.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });
    }
  });
  it('mounts nothing when the pod opts out', async () => {
    const p = await admin.create<Pod>(PODS_IN_DEFAULT, pod('quiet', { automountServiceAccountToken: false }));
    expect(p.spec?.volumes ?? []).toEqual([]);
  });
  it('mounts nothing when the account opts out', async () => {
    await admin.create(SA, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shy' }, automountServiceAccountToken: false });
    const p = await admin.create<Pod>(PODS_IN_DEFAULT, pod('shy-pod', { serviceAccountName: 'shy' }));
    expect(p.spec?.volumes ?? []).toEqual([]);
  });
  it('refuses a pod naming a missing account as Kubernetes does', async () => {
    const e = await failure(admin.create(PODS_IN_DEFAULT, pod('lost', { serviceAccountName: 'ghost' })));
    expect([e.code, e.reason, e.message]).toEqual([403, 'Forbidden',
      'pods "lost" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found']);
  });
});

describe('storage admission and validation', () => {
  it('gives a claim without a class the default one, and the protection finalizer', async () => {
    await admin.create(SCS, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'minikube-lite.io/hostpath', volumeBindingMode: 'WaitForFirstConsumer' });
    const c = await admin.create<{ metadata: { finalizers?: string[] }; spec: { storageClassName?: string }; status: { phase: string } } & Pod>(PVCS, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    } as never);
    expect(c.spec.storageClassName).toBe('standard');
    expect(c.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect(c.status.phase).toBe('Pending');
  });
  it('leaves an explicit empty class alone', async () => {
    const c = await admin.create<Pod & { spec: { storageClassName?: string } }>(PVCS, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'static' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    } as never);
    expect(c.spec.storageClassName).toBe('');
  });
  const invalid: { name: string; ref: typeof PVS; body: Record<string, unknown>; message: string }[] = [
    { name: 'a claim without a size', ref: PVCS, body: { kind: 'PersistentVolumeClaim', metadata: { name: 'x' }, spec: { accessModes: ['ReadWriteOnce'] } },
      message: 'PersistentVolumeClaim "x" is invalid: spec.resources[storage]: Required value' },
    { name: 'a claim with an unknown access mode', ref: PVCS, body: { kind: 'PersistentVolumeClaim', metadata: { name: 'x' }, spec: { accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } } },
      message: 'PersistentVolumeClaim "x" is invalid: spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"' },
    { name: 'a volume of a type minikube-lite cannot provide', ref: PVS, body: { kind: 'PersistentVolume', metadata: { name: 'nfs' }, spec: { accessModes: ['ReadWriteMany'], capacity: { storage: '1Gi' }, nfs: { server: 'x', path: '/' } } },
      message: 'PersistentVolume "nfs" is invalid: spec.nfs: Forbidden: nfs volumes are not supported by minikube-lite (supported: hostPath, local)' },
    { name: 'a role binding to a kind that is not a role', ref: ROLEBINDINGS, body: { kind: 'RoleBinding', metadata: { name: 'x' }, roleRef: { kind: 'Pod', name: 'x' }, subjects: [] },
      message: 'RoleBinding.rbac.authorization.k8s.io "x" is invalid: roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"' },
    { name: 'a cluster role with a rule without verbs', ref: CLUSTERROLES, body: { kind: 'ClusterRole', metadata: { name: 'x' }, rules: [{ apiGroups: [''], resources: ['pods'] }] },
      message: 'ClusterRole.rbac.authorization.k8s.io "x" is invalid: rules[0].verbs: Required value: verbs must contain at least one value' },
  ];
  for (const tc of invalid) {
    it(`refuses ${tc.name} with the field path`, async () => {
      const e = await failure(admin.create(tc.ref, tc.body));
      expect([e.code, e.message]).toEqual([422, tc.message]);
    });
  }
});

describe('SelfSubjectAccessReview and impersonation', () => {
  const review = (client: ApiClient, resourceAttributes: Record<string, string>) =>
    client.request<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } });
  it('answers for the requesting user with the same authorizer', async () => {
    const asSA = new ApiClient({ server: server.url, token: await tokenFor('default') });
    expect((await review(asSA, { namespace: 'default', verb: 'list', resource: 'pods' })).status.allowed).toBe(true);
    expect((await review(asSA, { verb: 'list', resource: 'nodes' })).status.allowed).toBe(false);
    expect((await review(admin, { verb: 'delete', resource: 'nodes' })).status.allowed).toBe(true);
  });
  it('lets the admin act as a service account (kubectl --as), and refuses impersonation to others', async () => {
    const as = async (token: string, user: string, path: string) => (await fetch(`${server.url}${path}`, {
      headers: { Authorization: `Bearer ${token}`, 'Impersonate-User': user },
    }));
    let res = await as('admin-token', 'system:serviceaccount:default:default', '/api/v1/nodes');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('User "system:serviceaccount:default:default" cannot list resource "nodes"');
    res = await as('admin-token', 'system:serviceaccount:default:default', '/api/v1/namespaces/default/pods');
    expect(res.status).toBe(200);
    res = await as(await tokenFor('default'), 'alice', '/api/v1/namespaces/default/pods');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message)
      .toBe('users "alice" is forbidden: User "system:serviceaccount:default:default" cannot impersonate resource "users" in API group "" at the cluster scope');
  });
});

describe('escalation prevention', () => {
  it('lets a namespace admin grant what it holds, and refuses more', async () => {
    await admin.create(SA, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ns-admin' } });
    await admin.create(ROLEBINDINGS, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'ns-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'ServiceAccount', name: 'ns-admin' }] });
    const nsAdmin = new ApiClient({ server: server.url, token: await tokenFor('ns-admin') });
    const rbRole = (name: string, kind: string, role: string) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role }, subjects: [{ kind: 'User', name: 'bob' }] });
    await nsAdmin.create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader' },
      rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }] });
    await nsAdmin.create(ROLEBINDINGS, rbRole('bob-view', 'ClusterRole', 'view'));
    let e = await failure(nsAdmin.create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'too-much' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] }));
    expect([e.code, e.message]).toEqual([403, 'roles.rbac.authorization.k8s.io "too-much" is forbidden: user "system:serviceaccount:default:ns-admin" (groups=["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}']);
    e = await failure(nsAdmin.create(ROLEBINDINGS, rbRole('bob-root', 'ClusterRole', 'cluster-admin')));
    expect(e.code).toBe(403);
    expect(e.message).toContain('is attempting to grant RBAC permissions not currently held');
    // Nothing was written.
    expect((await admin.list(ROLEBINDINGS)).items.map((b) => b.metadata?.name)).not.toContain('bob-root');
  });
});

describe('bootstrap policy', () => {
  it('has cluster-admin, admin, edit and view', async () => {
    const names = (await admin.list(CLUSTERROLES)).items.map((r) => r.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['cluster-admin', 'admin', 'edit', 'view', 'system:discovery']));
  });
});
