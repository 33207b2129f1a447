/**
 * The API server with the real registry (`RESOURCES`) over HTTP, for what apps/v1 needs from it:
 * discovery, Deployment and ReplicaSet CRUD with defaults, validation and generation, the status
 * and scale subresources, Tables, cross-namespace lists and watches with selectors, deletion
 * with propagation policies and finalizers, and the real kubectl (`get`, `scale`,
 * `rollout status`, `delete --cascade`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { Deployment, KubeObject, OwnerReference, ReplicaSet, Scale, Status } from '../../src/api/types.js';
import { deletionFinalizers, type DeleteOptions } from '../../src/apiserver/rest.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { selfSignedCertificate } from '../../src/apiserver/tls.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { call, TOKEN, WatchReader } from './apiserver.fixtures.js';

let now = new Date('2025-03-01T12:00:00.000Z');
const logged: string[] = [];
let server: ApiServer;
let base: string;

beforeAll(async () => {
  server = await startApiServer({
    store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, clock: () => now,
    logger: { info: () => undefined, error: (m, e) => logged.push(`${m}: ${(e as Error | undefined)?.message ?? ''}`) },
  });
  base = server.url;
});
afterAll(async () => {
  await server.close();
  expect(logged).toEqual([]);
});

const api = <T = Deployment>(method: string, path: string, body?: unknown, opts: { contentType?: string; accept?: string } = {}) =>
  call<T>(base, method, path, { body, ...opts });
const MERGE = { contentType: 'application/merge-patch+json' };
const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };

const deployPath = (ns = 'default', name = '', sub = '') => `/apis/apps/v1/namespaces/${ns}/deployments${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
const rsPath = (ns = 'default', name = '', sub = '') => `/apis/apps/v1/namespaces/${ns}/replicasets${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
const podPath = (ns = 'default', name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;

function deployment(name: string, extra: { replicas?: number; labels?: Record<string, string>; image?: string } = {}): Deployment {
  const labels = extra.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      ...(extra.replicas !== undefined ? { replicas: extra.replicas } : {}),
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: extra.image ?? 'nginx:1.25' }] } },
    },
  };
}

function replicaSet(name: string, labels: Record<string, string>, owner?: KubeObject): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name, labels, ...(owner ? { ownerReferences: [ownerRef(owner, 'Deployment')] } : {}) },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } } },
  };
}

function ownerRef(owner: KubeObject, kind: string): OwnerReference {
  return { apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

async function ensureNamespace(name: string): Promise<void> {
  const r = await api('POST', '/api/v1/namespaces', { metadata: { name } });
  expect([201, 409]).toContain(r.status);
}

async function create<T extends KubeObject>(path: string, obj: T): Promise<T> {
  const r = await api<T>('POST', path, obj);
  expect(r.status, r.text).toBe(201);
  return r.body;
}

const createDeployment = (name: string, extra: Parameters<typeof deployment>[1] = {}, ns = 'default') => create(deployPath(ns), deployment(name, extra));

function pod(name: string, labels: Record<string, string>, owners: OwnerReference[] = []): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, ...(owners.length ? { ownerReferences: owners } : {}) },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
  } as KubeObject;
}

describe('discovery of apps/v1', () => {
  it('lists the apps group under /apis', async () => {
    const r = await api<{ groups: { name: string; preferredVersion: { groupVersion: string } }[] }>('GET', '/apis');
    expect(r.body.groups).toContainEqual(expect.objectContaining({ name: 'apps', preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }));
  });

  it('lists deployments and replicasets with their verbs, short names, the all category and their subresources', async () => {
    const r = await api<{ groupVersion: string; resources: Record<string, unknown>[] }>('GET', '/apis/apps/v1');
    const byName = Object.fromEntries(r.body.resources.map((x) => [x.name, x]));
    const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    expect(byName.deployments).toEqual({ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs, shortNames: ['deploy'], categories: ['all'] });
    expect(byName.replicasets).toEqual({ name: 'replicasets', singularName: 'replicaset', namespaced: true, kind: 'ReplicaSet', verbs, shortNames: ['rs'], categories: ['all'] });
    expect(byName['deployments/status']).toMatchObject({ kind: 'Deployment', verbs: ['get', 'patch', 'update'] });
    for (const sub of ['deployments/scale', 'replicasets/scale']) {
      expect(byName[sub]).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    }
  });
});

describe('deployments', () => {
  it('are created with apps/v1 defaults, an empty status and generation 1', async () => {
    const d = await createDeployment('c-1');
    expect(d).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'c-1', namespace: 'default', generation: 1 }, status: {} });
    expect(d.spec).toMatchObject({
      replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', containers: [{ imagePullPolicy: 'IfNotPresent' }] } },
    });
  });

  it('drop a status sent on create', async () => {
    const d = await create(deployPath(), { ...deployment('c-2'), status: { replicas: 5, readyReplicas: 5 } });
    expect(d.status).toEqual({});
  });

  it.each([
    ['a container without image', (d: Deployment) => { delete d.spec!.template.spec!.containers[0].image; }, 'Deployment.apps "bad" is invalid: spec.template.spec.containers[0].image: Required value'],
    ['a selector that does not match the template', (d: Deployment) => { d.spec!.selector = { matchLabels: { app: 'other' } }; },
      'Deployment.apps "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`'],
    ['restartPolicy Never', (d: Deployment) => { d.spec!.template.spec!.restartPolicy = 'Never'; }, 'Deployment.apps "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ['maxSurge and maxUnavailable both 0', (d: Deployment) => { d.spec!.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }; },
      'Deployment.apps "bad" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0'],
  ])('are refused with 422 for %s', async (_what, edit, message) => {
    const d = deployment('bad');
    edit(d);
    const r = await api<Status>('POST', deployPath(), d);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ reason: 'Invalid', message, details: { name: 'bad', group: 'apps', kind: 'Deployment' } });
  });

  it('bump generation on spec and annotation changes, not on label changes, and keep status on PUT', async () => {
    const d = await createDeployment('g-1');
    const image = await api('PATCH', deployPath('default', 'g-1'), { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } } }, MERGE);
    expect(image.body.metadata?.generation).toBe(2);
    const labels = await api('PATCH', deployPath('default', 'g-1'), { metadata: { labels: { team: 'a' } } }, MERGE);
    expect(labels.body.metadata?.generation).toBe(2);
    const notes = await api('PATCH', deployPath('default', 'g-1'), { metadata: { annotations: { 'kubernetes.io/change-cause': 'v2' } } }, MERGE);
    expect(notes.body.metadata?.generation).toBe(3);
    const put = await api('PUT', deployPath('default', 'g-1'), { ...notes.body, status: { replicas: 7 } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.status).toEqual({});
    expect(put.body.metadata?.uid).toBe(d.metadata?.uid);
  });

  it('change only status (and annotations) through the status subresource', async () => {
    const d = await create(deployPath(), { ...deployment('s-1', { replicas: 2 }), metadata: { name: 's-1', labels: { team: 'a' } } });
    const body = { ...d, metadata: { ...d.metadata, annotations: { 'deployment.kubernetes.io/revision': '1' }, labels: { sneaky: 'yes' } }, spec: { ...d.spec!, replicas: 9 },
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 } };
    const r = await api('PUT', deployPath('default', 's-1', 'status'), body);
    expect(r.status, r.text).toBe(200);
    expect(r.body.status).toEqual(body.status);
    expect(r.body.spec?.replicas).toBe(2);
    expect(r.body.metadata).toMatchObject({ generation: 1, annotations: { 'deployment.kubernetes.io/revision': '1' } });
    expect(r.body.metadata?.labels).toEqual({ team: 'a' });
  });

  it('refuse a status that counts more ready than current replicas', async () => {
    await createDeployment('s-2');
    const r = await api<Status>('PATCH', deployPath('default', 's-2', 'status'), { status: { replicas: 1, readyReplicas: 2 } }, MERGE);
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Deployment.apps "s-2" is invalid: status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas');
  });

  it('refuse a changed selector', async () => {
    await createDeployment('i-1');
    const r = await api<Status>('PATCH', deployPath('default', 'i-1'), {
      spec: { selector: { matchLabels: { app: 'i-2' } }, template: { metadata: { labels: { app: 'i-2' } } } },
    }, MERGE);
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Deployment.apps "i-1" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"i-2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable');
  });

  it('print as kubectl\'s deployment Table', async () => {
    const d = await createDeployment('t-1', { replicas: 3 });
    await api('PATCH', deployPath('default', 't-1', 'status'), { status: { replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 1 } }, MERGE);
    now = new Date('2025-03-01T12:05:00Z');
    const r = await api<{ kind: string; columnDefinitions: { name: string; type: string; priority: number }[]; rows: { cells: unknown[] }[] }>(
      'GET', `${deployPath()}?fieldSelector=metadata.name%3Dt-1`, undefined, TABLE);
    now = new Date('2025-03-01T12:00:00Z');
    expect(r.body.columnDefinitions.map((c) => `${c.name}/${c.type}/${c.priority}`)).toEqual([
      'Name/string/0', 'Ready/string/0', 'Up-to-date/string/0', 'Available/string/0', 'Age/string/0', 'Containers/string/1', 'Images/string/1', 'Selector/string/1']);
    expect(r.body.rows.map((row) => row.cells)).toEqual([['t-1', '2/3', 2, 1, '5m', 'app', 'nginx:1.25', 'app=t-1']]);
    expect(d.metadata?.name).toBe('t-1');
  });
});

describe('replicasets', () => {
  beforeAll(async () => {
    await ensureNamespace('rs-a');
    await ensureNamespace('rs-b');
  });

  it('are created with replicas 1 and status.replicas 0', async () => {
    const rs = await create(rsPath('rs-a'), { ...replicaSet('r-1', { app: 'r' }), spec: { ...replicaSet('r-1', { app: 'r' }).spec!, replicas: undefined } });
    expect(rs.spec?.replicas).toBe(1);
    expect(rs.status).toEqual({ replicas: 0 });
  });

  it('are listed across namespaces with a label selector, and selectable by status.replicas', async () => {
    await create(rsPath('rs-b'), replicaSet('r-2', { app: 'r', tier: 'x' }));
    await create(rsPath('rs-b'), replicaSet('r-3', { app: 'other' }));
    const names = async (q: string) => (await api<{ items: ReplicaSet[] }>('GET', `/apis/apps/v1/replicasets${q}`)).body.items.map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`);
    expect(await names('?labelSelector=app%3Dr')).toEqual(['rs-a/r-1', 'rs-b/r-2']);
    expect(await names('?labelSelector=app%3Dr&fieldSelector=metadata.namespace%3Drs-b')).toEqual(['rs-b/r-2']);
    expect(await names('?fieldSelector=status.replicas%3D0,metadata.name%3Dr-3')).toEqual(['rs-b/r-3']);
  });

  it('are watched across namespaces with a label selector', async () => {
    const list = await api<{ metadata: { resourceVersion: string } }>('GET', '/apis/apps/v1/replicasets');
    const w = new WatchReader(base, `/apis/apps/v1/replicasets?watch=true&labelSelector=app%3Dwatched&resourceVersion=${list.body.metadata.resourceVersion}`);
    try {
      await create(rsPath('rs-a'), replicaSet('w-1', { app: 'watched' }));
      await create(rsPath('rs-b'), replicaSet('w-2', { app: 'ignored' }));
      await create(rsPath('rs-b'), replicaSet('w-3', { app: 'watched' }));
      await api('PATCH', rsPath('rs-b', 'w-3', 'status'), { status: { replicas: 1 } }, MERGE);
      expect(await w.take(3)).toEqual(['ADDED w-1', 'ADDED w-3', 'MODIFIED w-3']);
    } finally {
      w.stop();
    }
  });

  it('print as kubectl\'s replicaset Table', async () => {
    const r = await api<{ columnDefinitions: { name: string; type: string }[]; rows: { cells: unknown[] }[] }>('GET', `${rsPath('rs-a')}?fieldSelector=metadata.name%3Dr-1`, undefined, TABLE);
    expect(r.body.columnDefinitions.map((c) => `${c.name}/${c.type}`)).toEqual([
      'Name/string', 'Desired/integer', 'Current/integer', 'Ready/integer', 'Age/string', 'Containers/string', 'Images/string', 'Selector/string']);
    expect(r.body.rows[0].cells).toEqual(['r-1', 1, 0, 0, '0s', 'app', 'nginx:1.25', 'app=r']);
  });
});

describe('pods across namespaces, as controllers list and watch them', () => {
  beforeAll(async () => {
    await ensureNamespace('p-a');
    await ensureNamespace('p-b');
    await create(podPath('p-a'), pod('p-1', { app: 'ctl' }));
    await create(podPath('p-b'), pod('p-2', { app: 'ctl' }));
    await create(podPath('p-b'), pod('p-3', { app: 'else' }));
  });

  it.each([
    ['a label selector', '?labelSelector=app%3Dctl', ['p-a/p-1', 'p-b/p-2']],
    ['metadata.namespace', '?fieldSelector=metadata.namespace%3Dp-b', ['p-b/p-2', 'p-b/p-3']],
    ['metadata.name', '?fieldSelector=metadata.name%3Dp-3', ['p-b/p-3']],
    ['spec.nodeName and status.phase', '?labelSelector=app&fieldSelector=spec.nodeName%3D,status.phase%3DPending', ['p-a/p-1', 'p-b/p-2', 'p-b/p-3']],
  ])('are listed at /api/v1/pods with %s', async (_what, q, want) => {
    const r = await api<{ items: KubeObject[] }>('GET', `/api/v1/pods${q}`);
    expect(r.body.items.map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`)).toEqual(want);
  });

  it('are watched at /api/v1/pods with a label selector', async () => {
    const w = new WatchReader(base, '/api/v1/pods?watch=true&labelSelector=app%3Dctl');
    try {
      expect((await w.take(2)).sort()).toEqual(['ADDED p-1', 'ADDED p-2']);
      await create(podPath('p-a'), pod('p-4', { app: 'ctl' }));
      expect(await w.take(1)).toEqual(['ADDED p-4']);
    } finally {
      w.stop();
    }
  });
});

describe('the scale subresource', () => {
  it('reads a deployment as an autoscaling/v1 Scale', async () => {
    const d = await createDeployment('sc-1', { replicas: 2 });
    const r = await api<Scale>('GET', deployPath('default', 'sc-1', 'scale'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: 'sc-1', namespace: 'default', uid: d.metadata?.uid, resourceVersion: d.metadata?.resourceVersion, creationTimestamp: d.metadata?.creationTimestamp },
      spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=sc-1' },
    });
  });

  it('changes only spec.replicas of the parent on PUT, bumping its generation and resourceVersion', async () => {
    const d = await createDeployment('sc-2', { replicas: 2 });
    const scale = (await api<Scale>('GET', deployPath('default', 'sc-2', 'scale'))).body;
    const r = await api<Scale>('PUT', deployPath('default', 'sc-2', 'scale'), { ...scale, spec: { replicas: 3 }, status: { replicas: 99 } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec).toEqual({ replicas: 3 });
    expect(r.body.status).toEqual({ replicas: 0, selector: 'app=sc-2' });
    expect(Number(r.body.metadata?.resourceVersion)).toBeGreaterThan(Number(d.metadata?.resourceVersion));
    const after = (await api('GET', deployPath('default', 'sc-2'))).body;
    expect(after.spec?.replicas).toBe(3);
    expect(after.metadata?.generation).toBe(2);
    expect(after.metadata?.resourceVersion).toBe(r.body.metadata?.resourceVersion);
    expect({ ...after.spec, replicas: 2 }).toEqual(d.spec);
  });

  it.each([
    ['a merge patch', 'application/merge-patch+json', { spec: { replicas: 4 } }],
    ['a strategic merge patch', 'application/strategic-merge-patch+json', { spec: { replicas: 4 } }],
    ['a JSON patch', 'application/json-patch+json', [{ op: 'replace', path: '/spec/replicas', value: 4 }]],
  ])('applies %s to the Scale', async (_what, contentType, patch) => {
    const name = `sc-p${contentType.length}`;
    await createDeployment(name, { replicas: 1 });
    const r = await api<Scale>('PATCH', deployPath('default', name, 'scale'), patch, { contentType });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec?.replicas).toBe(4);
    expect((await api('GET', deployPath('default', name))).body.spec?.replicas).toBe(4);
  });

  it('scales to zero when spec.replicas is left out, as autoscaling/v1 omits a 0', async () => {
    await createDeployment('sc-0', { replicas: 2 });
    const r = await api<Scale>('PUT', deployPath('default', 'sc-0', 'scale'), { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'sc-0' }, spec: {} });
    expect(r.body.spec).toEqual({});
    expect((await api('GET', deployPath('default', 'sc-0'))).body.spec?.replicas).toBe(0);
  });

  it('answers negative replicas with 422 in Kubernetes\' words', async () => {
    await createDeployment('sc-3');
    const r = await api<Status>('PUT', deployPath('default', 'sc-3', 'scale'), { metadata: { name: 'sc-3' }, spec: { replicas: -1 } });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      reason: 'Invalid', message: 'Scale.autoscaling "sc-3" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      details: { name: 'sc-3', group: 'autoscaling', kind: 'Scale', causes: [{ field: 'spec.replicas', reason: 'FieldValueInvalid' }] },
    });
  });

  it('treats the Scale\'s resourceVersion and uid as preconditions (409)', async () => {
    const d = await createDeployment('sc-4');
    await api('PATCH', deployPath('default', 'sc-4'), { metadata: { labels: { x: 'y' } } }, MERGE);
    const stale = await api<Status>('PUT', deployPath('default', 'sc-4', 'scale'), { metadata: { name: 'sc-4', resourceVersion: d.metadata?.resourceVersion }, spec: { replicas: 2 } });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toBe('Operation cannot be fulfilled on deployments.apps "sc-4": the object has been modified; please apply your changes to the latest version and try again');
    const uid = await api<Status>('PUT', deployPath('default', 'sc-4', 'scale'), { metadata: { name: 'sc-4', uid: 'not-it' }, spec: { replicas: 2 } });
    expect(uid.status).toBe(409);
    expect(uid.body.message).toBe(`Operation cannot be fulfilled on deployments/scale.apps "sc-4": Precondition failed: UID in precondition: not-it, UID in object meta: ${d.metadata?.uid}`);
    const unconditional = await api<Scale>('PUT', deployPath('default', 'sc-4', 'scale'), { spec: { replicas: 2 } });
    expect(unconditional.status).toBe(200);
  });

  it.each([
    ['another kind', { kind: 'Deployment', apiVersion: 'apps/v1', spec: { replicas: 1 } }, 'Deployment in version "apps/v1" cannot be handled as a Scale: the kind of the object does not match the endpoint'],
    ['another name', { metadata: { name: 'other' }, spec: { replicas: 1 } }, 'the name of the object (other) does not match the name on the URL (sc-5)'],
    ['replicas as a string', { spec: { replicas: '2' } }, 'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32'],
  ])('refuses a body with %s (400)', async (_what, body, message) => {
    await api('POST', deployPath(), deployment('sc-5'));
    const r = await api<Status>('PUT', deployPath('default', 'sc-5', 'scale'), body);
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(message);
  });

  it('stores nothing on dryRun=All', async () => {
    await createDeployment('sc-6', { replicas: 1 });
    const r = await api<Scale>('PATCH', `${deployPath('default', 'sc-6', 'scale')}?dryRun=All`, { spec: { replicas: 5 } }, MERGE);
    expect(r.body.spec?.replicas).toBe(5);
    expect((await api('GET', deployPath('default', 'sc-6'))).body.spec?.replicas).toBe(1);
  });

  it('serves replicasets too', async () => {
    await create(rsPath(), replicaSet('sc-rs', { app: 'sc-rs' }));
    const r = await api<Scale>('PATCH', rsPath('default', 'sc-rs', 'scale'), { spec: { replicas: 3 } }, MERGE);
    expect(r.body).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 0, selector: 'app=sc-rs' } });
  });

  it.each([
    ['a missing deployment', deployPath('default', 'nobody', 'scale'), 'deployments.apps "nobody" not found'],
    ['a kind without the subresource', `${podPath('default', 'x')}/scale`, 'the server could not find the requested resource'],
  ])('answers 404 for %s', async (_what, path, message) => {
    const r = await api<Status>('GET', path);
    expect(r.status).toBe(404);
    expect(r.body.message).toBe(message);
  });
});

describe('deletionFinalizers', () => {
  it.each<[string, string[], DeleteOptions, string[], boolean]>([
    ['no policy and no finalizers means Background', [], {}, [], false],
    ['Foreground adds foregroundDeletion after the others', ['example.com/a'], { propagationPolicy: 'Foreground' }, ['example.com/a', 'foregroundDeletion'], false],
    ['Foreground keeps an existing foregroundDeletion where it is', ['foregroundDeletion', 'example.com/a'], { propagationPolicy: 'Foreground' }, ['foregroundDeletion', 'example.com/a'], false],
    ['Background drops foregroundDeletion', ['foregroundDeletion', 'example.com/a'], { propagationPolicy: 'Background' }, ['example.com/a'], false],
    ['no policy keeps what foregroundDeletion asked for', ['foregroundDeletion'], {}, ['foregroundDeletion'], false],
    ['Orphan orphans now and keeps no orphan finalizer', ['orphan', 'example.com/a'], { propagationPolicy: 'Orphan' }, ['example.com/a'], true],
    ['no policy follows an orphan finalizer', ['orphan'], {}, [], true],
    ['the first of orphan and foregroundDeletion wins without a policy', ['foregroundDeletion', 'orphan'], {}, ['foregroundDeletion'], false],
    ['orphanDependents true means Orphan', [], { orphanDependents: true }, [], true],
    ['orphanDependents false means Background', ['foregroundDeletion'], { orphanDependents: false }, [], false],
  ])('%s', (_name, finalizers, options, want, orphan) => {
    expect(deletionFinalizers({ metadata: { name: 'x', finalizers } }, options)).toEqual({ finalizers: want, orphan });
  });
});

describe('deletion and dependents', () => {
  beforeAll(async () => {
    await ensureNamespace('gc');
    await ensureNamespace('gc-other');
  });

  /** A deployment with one replicaset and a pod owned by it; plus a pod in another namespace naming the same uid. */
  async function family(name: string) {
    const d = await createDeployment(name, {}, 'gc');
    const rs = await create(rsPath('gc'), replicaSet(`${name}-rs`, { app: name }, d));
    const p = await create(podPath('gc'), pod(`${name}-pod`, { app: name }, [ownerRef(rs, 'ReplicaSet'), { ...ownerRef(d, 'Deployment'), controller: false }]));
    return { d, rs, p };
  }

  it('deletes the owner at once by default (Background) and leaves the dependents to the garbage collector', async () => {
    const { rs } = await family('bg');
    const r = await api('DELETE', deployPath('gc', 'bg'));
    expect(r.status).toBe(200);
    expect((await api('GET', deployPath('gc', 'bg'))).status).toBe(404);
    expect((await api<ReplicaSet>('GET', rsPath('gc', 'bg-rs'))).body.metadata?.ownerReferences).toEqual(rs.metadata?.ownerReferences);
  });

  it.each([
    ['propagationPolicy Orphan in DeleteOptions', '', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' }],
    ['the propagationPolicy query parameter', '?propagationPolicy=Orphan', undefined],
    ['the deprecated orphanDependents=true', '', { orphanDependents: true }],
  ])('orphans the dependents first with %s', async (_what, query, body) => {
    const name = `or${query.length}${body ? Object.keys(body).length : 0}`;
    const { rs, p } = await family(name);
    const elsewhere = await create(podPath('gc-other'), pod(`${name}-far`, { app: name }, [ownerRef((await api('GET', deployPath('gc', name))).body, 'Deployment')]));
    const list = await api<{ metadata: { resourceVersion: string } }>('GET', rsPath('gc'));
    const w = new WatchReader(base, `${rsPath('gc')}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}&fieldSelector=metadata.name%3D${name}-rs`);
    try {
      const r = await api('DELETE', deployPath('gc', name) + query, body);
      expect(r.status).toBe(200);
      expect((await api('GET', deployPath('gc', name))).status).toBe(404);
      const orphanedRs = (await api<ReplicaSet>('GET', rsPath('gc', `${name}-rs`))).body;
      expect(orphanedRs.metadata?.ownerReferences).toBeUndefined();
      expect(Number(orphanedRs.metadata?.resourceVersion)).toBeGreaterThan(Number(rs.metadata?.resourceVersion));
      expect((await api<KubeObject>('GET', podPath('gc', `${name}-pod`))).body.metadata?.ownerReferences).toEqual([p.metadata?.ownerReferences?.[0]]);
      expect((await api<KubeObject>('GET', podPath('gc-other', `${name}-far`))).body.metadata?.ownerReferences).toEqual(elsewhere.metadata?.ownerReferences);
      expect(await w.take(1)).toEqual([`MODIFIED ${name}-rs`]);
    } finally {
      w.stop();
    }
  });

  it.each([
    ['the query', '?dryRun=All&propagationPolicy=Orphan', undefined],
    ['DeleteOptions, where kubectl --dry-run=server puts it', '', { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'], propagationPolicy: 'Orphan' }],
  ])('deletes and orphans nothing with dryRun All in %s', async (_where, query, body) => {
    const name = `dry${query.length}`;
    const { rs } = await family(name);
    const r = await api('DELETE', `${deployPath('gc', name)}${query}`, body);
    expect(r.status).toBe(200);
    expect((await api('GET', deployPath('gc', name))).status).toBe(200);
    expect((await api<ReplicaSet>('GET', rsPath('gc', `${name}-rs`))).body.metadata?.ownerReferences).toEqual(rs.metadata?.ownerReferences);
  });

  it('keeps a Foreground-deleted owner, marked, until the foregroundDeletion finalizer is removed', async () => {
    await family('fg');
    const r = await api('DELETE', deployPath('gc', 'fg'), { propagationPolicy: 'Foreground' });
    expect(r.status).toBe(200);
    expect(r.body.metadata).toMatchObject({ deletionTimestamp: '2025-03-01T12:00:00Z', deletionGracePeriodSeconds: 0, finalizers: ['foregroundDeletion'], generation: 2 });
    const again = await api('DELETE', deployPath('gc', 'fg'));
    expect(again.body.metadata?.finalizers).toEqual(['foregroundDeletion']);
    expect((await api('GET', deployPath('gc', 'fg'))).status).toBe(200);
    const done = await api('PATCH', deployPath('gc', 'fg'), { metadata: { finalizers: null } }, MERGE);
    expect(done.status).toBe(200);
    expect((await api('GET', deployPath('gc', 'fg'))).status).toBe(404);
  });

  it('adds foregroundDeletion beside other finalizers and drops it when a later DELETE asks for Background', async () => {
    await create(deployPath('gc'), { ...deployment('fg2'), metadata: { name: 'fg2', finalizers: ['example.com/hold'] } });
    const fg = await api('DELETE', deployPath('gc', 'fg2'), { propagationPolicy: 'Foreground' });
    expect(fg.body.metadata?.finalizers).toEqual(['example.com/hold', 'foregroundDeletion']);
    const bg = await api('DELETE', `${deployPath('gc', 'fg2')}?propagationPolicy=Background`);
    expect(bg.body.metadata?.finalizers).toEqual(['example.com/hold']);
    await api('PATCH', deployPath('gc', 'fg2'), { metadata: { finalizers: [] } }, MERGE);
    expect((await api('GET', deployPath('gc', 'fg2'))).status).toBe(404);
  });

  it('keeps any object with finalizers on DELETE and refuses new finalizers while it is being deleted', async () => {
    await create(rsPath('gc'), { ...replicaSet('fin', { app: 'fin' }), metadata: { name: 'fin', finalizers: ['example.com/a'] } });
    const r = await api<ReplicaSet>('DELETE', rsPath('gc', 'fin'));
    expect(r.body.metadata).toMatchObject({ deletionTimestamp: '2025-03-01T12:00:00Z', finalizers: ['example.com/a'] });
    const more = await api<Status>('PATCH', rsPath('gc', 'fin'), { metadata: { finalizers: ['example.com/a', 'example.com/b'] } }, MERGE);
    expect(more.status).toBe(422);
    expect(more.body.message).toBe('ReplicaSet.apps "fin" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b"}');
    const cleared = await api('PUT', rsPath('gc', 'fin'), { ...r.body, metadata: { ...r.body.metadata, finalizers: [] } });
    expect(cleared.status, cleared.text).toBe(200);
    expect((await api('GET', rsPath('gc', 'fin'))).status).toBe(404);
  });

  it('answers 202 when the object stays and orphanDependents=false was asked for', async () => {
    await create(rsPath('gc'), { ...replicaSet('acc', { app: 'acc' }), metadata: { name: 'acc', finalizers: ['example.com/a'] } });
    const r = await api('DELETE', rsPath('gc', 'acc'), { orphanDependents: false });
    expect(r.status).toBe(202);
    await api('PATCH', rsPath('gc', 'acc'), { metadata: { finalizers: null } }, MERGE);
  });

  it.each([
    ['an unknown propagationPolicy', { propagationPolicy: 'Sideways' },
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"'],
    ['a propagationPolicy beside orphanDependents', { propagationPolicy: 'Orphan', orphanDependents: true },
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set'],
  ])('refuses %s with 422', async (_what, body, message) => {
    await createDeployment('inv', {}, 'gc');
    const r = await api<Status>('DELETE', deployPath('gc', 'inv'), body);
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(message);
    expect((await api('GET', deployPath('gc', 'inv'))).status).toBe(200);
    await api('DELETE', deployPath('gc', 'inv'));
  });
});

describe('kubectl against apps/v1', () => {
  const kubectl = '/usr/bin/kubectl';
  const skip = !existsSync(kubectl);
  let s: ApiServer;
  let dir: string;
  const run = promisify(execFile);
  const k = async (...args: string[]): Promise<string> => {
    const r = await run(kubectl, ['--kubeconfig', join(dir, 'config'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 20_000 });
    return r.stdout + r.stderr;
  };
  const raw = <T = Deployment>(method: string, path: string, body?: unknown, contentType?: string) =>
    call<T>(s.url, method, path, { body, ...(contentType ? { contentType } : {}) });

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'mkl-kubectl-apps-'));
    // kubectl sends a kubeconfig's token only over TLS, so this server serves HTTPS.
    const tls = await selfSignedCertificate({ hosts: ['127.0.0.1', 'localhost'] });
    // HTTPS for kubectl beside plain HTTP for this test's own requests.
    s = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, tls, securePort: 0 });
    writeFileSync(join(dir, 'config'), [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', '- name: test', '  cluster:', `    server: ${s.secureUrl}`, `    certificate-authority-data: ${Buffer.from(tls.cert).toString('base64')}`,
      'users:', '- name: test', '  user:', `    token: ${TOKEN}`,
      'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test', '',
    ].join('\n'));
    writeFileSync(join(dir, 'deploy.yaml'), [
      'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: myapp',
      'spec:', '  replicas: 2', '  selector:', '    matchLabels:', '      app: myapp',
      '  template:', '    metadata:', '      labels:', '        app: myapp',
      '    spec:', '      containers:', '      - name: web', '        image: nginx:1.27', '',
    ].join('\n'));
  });
  afterAll(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)('lists the apps resources in api-resources (skipped when /usr/bin/kubectl is missing)', async () => {
    const out = await k('api-resources', '--api-group=apps');
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^replicasets\s+rs\s+apps\/v1\s+true\s+ReplicaSet$/m);
  });

  it.skipIf(skip)('applies, gets, scales, watches the rollout of and deletes a deployment (skipped when /usr/bin/kubectl is missing)', async () => {
    expect(await k('get', 'deploy')).toBe('No resources found in default namespace.\n');
    expect(await k('apply', '-f', join(dir, 'deploy.yaml'))).toBe('deployment.apps/myapp created\n');
    expect(await k('get', 'deploy')).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nmyapp\s+0\/2\s+0\s+0\s+\S+\n$/);
    expect(await k('get', 'deployments.apps', 'myapp', '-o', 'wide')).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nmyapp\s+0\/2\s+0\s+0\s+\S+\s+web\s+nginx:1\.27\s+app=myapp\n$/);
    expect(await k('apply', '-f', join(dir, 'deploy.yaml'))).toBe('deployment.apps/myapp unchanged\n');

    expect(await k('scale', 'deployment', 'myapp', '--replicas=3')).toBe('deployment.apps/myapp scaled\n');
    expect(await k('get', 'deploy', 'myapp', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}')).toBe('3 2');

    // What the deployment controller would report once the rollout is done.
    const status = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };
    expect((await raw('PATCH', deployPath('default', 'myapp', 'status'), { status }, 'application/merge-patch+json')).status).toBe(200);
    expect(await k('rollout', 'status', 'deployment/myapp', '--timeout=10s')).toBe('deployment "myapp" successfully rolled out\n');
    expect(await k('get', 'deploy')).toMatch(/\nmyapp\s+3\/3\s+3\s+3\s+\S+\n$/);

    const rs = replicaSet('myapp-abc', { app: 'myapp' }, (await raw('GET', deployPath('default', 'myapp'))).body);
    expect((await raw('POST', rsPath(), rs)).status).toBe(201);
    expect(await k('get', 'rs')).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nmyapp-abc\s+1\s+0\s+0\s+\S+\n$/);
    expect(await k('scale', 'rs', 'myapp-abc', '--replicas=0')).toBe('replicaset.apps/myapp-abc scaled\n');

    expect(await k('delete', 'deployment', 'myapp', '--cascade=orphan')).toBe('deployment.apps "myapp" deleted\n');
    expect(await k('get', 'rs', 'myapp-abc', '-o', 'jsonpath={.metadata.ownerReferences}')).toBe('');
    expect(await k('delete', 'rs', 'myapp-abc')).toBe('replicaset.apps "myapp-abc" deleted\n');
  }, 60_000);
});
