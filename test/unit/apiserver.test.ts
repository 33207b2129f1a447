/**
 * The API server over real HTTP (127.0.0.1, random port) with an in-memory SQLite store and
 * the test's own ResourceDefs: authentication, discovery, CRUD and Status errors, concurrency,
 * subresources, patches, deletion, selectors, watch semantics, the kubelet proxy, Tables, and
 * the real kubectl against it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDef } from '../../src/api/resource.js';
import type { KubeObject, Status } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  call, NAMESPACES_DEF, PODS_DEF, startFakeKubelet, startKubectlServer, TEST_RESOURCES, TOKEN, WatchReader, type FakeKubelet, type KubectlServer,
} from './apiserver.fixtures.js';

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; [k: string]: unknown };

let now = new Date('2025-03-01T12:00:00.000Z');
const errors: string[] = [];
let server: ApiServer;
let base: string;

async function start(resources: ResourceDef[], store = new SqliteStore(':memory:'), extra: { bookmarkIntervalMs?: number } = {}): Promise<ApiServer> {
  return startApiServer({
    store, resources, port: 0, token: TOKEN, clock: () => now, ...extra,
    logger: { info: () => undefined, error: (m, e) => errors.push(`${m}: ${(e as Error | undefined)?.message ?? ''}`) },
  });
}

beforeAll(async () => {
  server = await start(TEST_RESOURCES, undefined, { bookmarkIntervalMs: 200 });
  base = server.url;
});
afterAll(async () => {
  await server.close();
});

const podsPath = (ns = 'default', name = '', sub = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;

function pod(name: string, extra: { labels?: Record<string, string>; nodeName?: string; containers?: string[]; spec?: Record<string, unknown> } = {}): Obj {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      containers: (extra.containers ?? ['app']).map((c) => ({ name: c, image: 'busybox' })),
      ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
      ...extra.spec,
    },
  };
}

const api = <T = Obj>(method: string, path: string, body?: unknown, opts: { contentType?: string; accept?: string; token?: string | null } = {}) =>
  call<T>(base, method, path, { body, ...opts });

async function createPod(name: string, extra: Parameters<typeof pod>[1] = {}, ns = 'default'): Promise<Obj> {
  const r = await api('POST', podsPath(ns), pod(name, extra));
  expect(r.status, r.text).toBe(201);
  return r.body;
}

async function createNode(name: string, kubeletPort?: number): Promise<void> {
  const status: Record<string, unknown> = { conditions: [{ type: 'Ready', status: 'True' }] };
  if (kubeletPort) {
    status.addresses = [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }];
    status.daemonEndpoints = { kubeletEndpoint: { Port: kubeletPort } };
  }
  const r = await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name }, status });
  expect(r.status, r.text).toBe(201);
}

const bind = (name: string, node: string, ns = 'default') =>
  api<Status>('POST', podsPath(ns, name, 'binding'), { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } });

const rv = (o: KubeObject): number => Number(o.metadata?.resourceVersion);

describe('health and authentication', () => {
  it.each([['/readyz?verbose', '[+]ping ok\n[+]store ok\nreadyz check passed\n'], ['/livez?verbose', '[+]ping ok\nlivez check passed\n']])('answers %s with one line per check, as kubectl get --raw shows it', async (path, text) => {
    const r = await fetch(`${server.url}${path}`);
    expect([r.status, await r.text()]).toEqual([200, text]);
  });

  it.each(['/healthz', '/readyz', '/livez'])('answers %s with ok, without a token', async (path) => {
    const r = await api('GET', path, undefined, { token: null });
    expect([r.status, r.text]).toEqual([200, 'ok']);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'not-the-token'],
    ['a token that only shares a prefix', TOKEN.slice(0, -1)],
  ])('refuses a request with %s: 401 Unauthorized Status', async (_what, token) => {
    const r = await api<Status>('GET', '/api/v1/namespaces', undefined, { token });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
  });

  it('accepts the right bearer token on every path', async () => {
    expect((await api('GET', '/version')).status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces')).status).toBe(200);
  });
});

describe('discovery', () => {
  it('serves /version with the Kubernetes version it speaks', async () => {
    const r = await api('GET', '/version');
    expect(r.body).toMatchObject({ major: '1', minor: '32', gitVersion: expect.stringMatching(/^v1\.32\./) });
  });

  it('serves /api as APIVersions with v1', async () => {
    const r = await api('GET', '/api');
    expect(r.body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
  });

  it('serves /api/v1 as an APIResourceList with verbs, short names, scope, kind and subresources', async () => {
    const r = await api<{ kind: string; groupVersion: string; resources: Record<string, unknown>[] }>('GET', '/api/v1');
    expect(r.body.kind).toBe('APIResourceList');
    expect(r.body.groupVersion).toBe('v1');
    const byName = Object.fromEntries(r.body.resources.map((x) => [x.name, x]));
    expect(byName.pods).toMatchObject({
      singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    expect(byName.nodes).toMatchObject({ namespaced: false, kind: 'Node' });
    expect(byName['pods/status']).toMatchObject({ kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    expect(byName['pods/binding']).toMatchObject({ kind: 'Binding', verbs: ['create'] });
    expect(byName['pods/log']).toMatchObject({ verbs: ['get'] });
    expect(byName['pods/exec']).toMatchObject({ verbs: ['create', 'get'] });
    expect(byName.deployments).toBeUndefined();
  });

  it('lists named groups under /apis and serves each group version', async () => {
    const groups = await api<{ kind: string; groups: { name: string; preferredVersion: { groupVersion: string } }[] }>('GET', '/apis');
    expect(groups.body.kind).toBe('APIGroupList');
    expect(groups.body.groups).toEqual([expect.objectContaining({ name: 'apps', preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } })]);
    const apps = await api<{ groupVersion: string; resources: { name: string }[] }>('GET', '/apis/apps/v1');
    expect(apps.body.groupVersion).toBe('apps/v1');
    expect(apps.body.resources.map((x) => x.name)).toEqual(['deployments', 'deployments/status']);
  });

  it.each(['/apis/nope/v1', '/api/v2', '/openapi/v3/apis/nope/v1', '/nothing/here', '/api/v1/widgets', '/api/v1/namespaces/default/pods/a/b/c'])(
    'answers an unknown path (%s) with a 404 Status', async (path) => {
      const r = await api<Status>('GET', path);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource' });
    });

  it('tells kubectl through OpenAPI v3 that it validates fields itself', async () => {
    const index = await api<{ paths: Record<string, { serverRelativeURL: string }> }>('GET', '/openapi/v3');
    expect(index.body.paths['api/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    const doc = await api<{ paths: Record<string, { patch: { parameters: { name: string }[] } }> }>('GET', index.body.paths['api/v1'].serverRelativeURL);
    expect(doc.body.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch.parameters.map((p) => p.name)).toContain('fieldValidation');
  });
});

describe('errors', () => {
  it.each([
    ['PUT on a collection', 'PUT', podsPath(), 405, 'MethodNotAllowed'],
    ['POST on an item', 'POST', podsPath('default', 'x'), 405, 'MethodNotAllowed'],
    ['POST on the all-namespaces list', 'POST', '/api/v1/pods', 405, 'MethodNotAllowed'],
    ['DELETE on discovery', 'DELETE', '/api/v1', 405, 'MethodNotAllowed'],
    ['a namespaced object without namespace', 'GET', '/api/v1/pods/x', 404, 'NotFound'],
    ['a cluster-scoped kind inside a namespace', 'GET', '/api/v1/namespaces/default/nodes', 404, 'NotFound'],
    ['a subresource the kind does not have', 'GET', '/api/v1/nodes/n/binding', 404, 'NotFound'],
  ])('answers %s with %s', async (_what, method, path, code, reason) => {
    const r = await api<Status>(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
    expect(r.status).toBe(code);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason, code });
  });

  it('answers a body that is not JSON with 400 BadRequest', async () => {
    const r = await api<Status>('POST', podsPath(), '{not json');
    expect(r.status).toBe(400);
    expect(r.body.reason).toBe('BadRequest');
    expect(r.body.message).toMatch(/^couldn't get version\/kind; json parse error: /);
  });

  it('answers an internal failure with a 500 InternalError Status without stack, and logs it', async () => {
    const broken: ResourceDef = {
      ...NAMESPACES_DEF, resource: 'brokens', kind: 'Broken', listKind: 'BrokenList', singular: 'broken', shortNames: [],
      validate: () => { throw new Error('boom'); },
    };
    const s = await start([NAMESPACES_DEF, broken]);
    try {
      const r = await call<Status>(s.url, 'POST', '/api/v1/brokens', { body: { metadata: { name: 'b' } } });
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'InternalError', message: 'Internal error occurred: boom', code: 500 });
      expect(r.text).not.toMatch(/at .*\.ts/);
      expect(errors.some((e) => e.includes('boom'))).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('namespaces', () => {
  it('exist for default, kube-system, kube-public and kube-node-lease from the start', async () => {
    const r = await api<{ items: Obj[] }>('GET', '/api/v1/namespaces');
    expect(r.body.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
  });

  it('must exist for a namespaced create', async () => {
    const r = await api<Status>('POST', podsPath('nope'), pod('x'));
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ reason: 'NotFound', message: 'namespaces "nope" not found' });
  });

  it('take their objects with them when deleted', async () => {
    expect((await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } })).status).toBe(201);
    await createPod('a', {}, 'doomed');
    await createPod('b', { nodeName: 'node-x' }, 'doomed');
    expect((await api('DELETE', '/api/v1/namespaces/doomed')).status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
    expect((await api<{ items: Obj[] }>('GET', podsPath('doomed'))).body.items).toEqual([]);
  });

  it.each(['default', 'kube-system', 'kube-public'])('refuses to delete %s (403)', async (name) => {
    const r = await api<Status>('DELETE', `/api/v1/namespaces/${name}`);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ reason: 'Forbidden', message: `namespaces "${name}" is forbidden: this namespace may not be deleted` });
  });
});

describe('create', () => {
  it('sets uid, creationTimestamp (RFC 3339, whole seconds) and resourceVersion; no generation on a Pod, as in Kubernetes 1.32', async () => {
    const p = await createPod('created');
    expect(p.metadata).toMatchObject({ name: 'created', namespace: 'default', creationTimestamp: '2025-03-01T12:00:00Z' });
    expect(p.metadata?.generation).toBeUndefined();
    expect(p.metadata?.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(p.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect([p.kind, p.apiVersion]).toEqual(['Pod', 'v1']);
    expect(p.status).toEqual({ phase: 'Pending' });
    expect((await api('GET', podsPath('default', 'created'))).body).toEqual(p);
  });

  it('ignores server-owned metadata sent by the client', async () => {
    const body = pod('sneaky');
    body.metadata = { ...body.metadata, uid: 'mine', resourceVersion: '12345', creationTimestamp: '2000-01-01T00:00:00Z', deletionTimestamp: '2000-01-01T00:00:00Z' } as Obj['metadata'];
    const r = await api('POST', podsPath(), body);
    expect(r.body.metadata?.uid).not.toBe('mine');
    expect(r.body.metadata?.creationTimestamp).toBe('2025-03-01T12:00:00Z');
    expect(r.body.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('generates a name from generateName: the prefix and 5 random characters', async () => {
    const body = pod('');
    body.metadata = { generateName: 'web-' };
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', podsPath(), body);
      expect(r.status).toBe(201);
      expect(r.body.metadata?.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      names.add(r.body.metadata?.name ?? '');
    }
    expect(names.size).toBe(3);
  });

  it('fills in the namespace from the path when the body has none', async () => {
    expect((await createPod('nsless')).metadata?.namespace).toBe('default');
  });

  it.each([
    ['a duplicate name', () => pod('created'), 409, 'AlreadyExists', 'pods "created" already exists'],
    ['a namespace other than the path\'s', () => ({ ...pod('x'), metadata: { name: 'x', namespace: 'kube-system' } }), 400, 'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request'],
    ['another kind', () => ({ ...pod('x'), kind: 'Node' }), 400, 'BadRequest', 'Node in version "v1" cannot be handled as a Pod: the kind of the object does not match the endpoint'],
    ['another apiVersion', () => ({ ...pod('x'), apiVersion: 'apps/v1' }), 400, 'BadRequest', 'the API version in the data (apps/v1) does not match the expected API version (v1)'],
    ['neither name nor generateName', () => ({ ...pod('x'), metadata: {} }), 422, 'Invalid', 'Pod "" is invalid: metadata.name: Required value: name or generateName is required'],
    ['a name with a slash', () => pod('a/b'), 422, 'Invalid', 'Pod "a/b" is invalid: metadata.name: Invalid value: "a/b": may not contain \'/\''],
    ['a container without image', () => ({ ...pod('x'), spec: { containers: [{ name: 'c' }] } }), 422, 'Invalid', 'Pod "x" is invalid: spec.containers[0].image: Required value'],
  ])('refuses %s', async (_what, body, code, reason, message) => {
    const r = await api<Status>('POST', podsPath(), body());
    expect(r.status, r.text).toBe(code);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason, message, code });
  });

  it('reports validation problems as causes', async () => {
    const r = await api<Status>('POST', podsPath(), { ...pod('x'), spec: { containers: [{ name: 'a' }, { name: 'b' }] } });
    expect(r.body.message).toBe('Pod "x" is invalid: [spec.containers[0].image: Required value, spec.containers[1].image: Required value]');
    expect(r.body.details).toMatchObject({ name: 'x', kind: 'Pod', causes: [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[1].image' },
    ] });
  });

  it('stores nothing on dryRun=All', async () => {
    const r = await api('POST', `${podsPath()}?dryRun=All`, pod('dry'));
    expect(r.status).toBe(201);
    expect((await api('GET', podsPath('default', 'dry'))).status).toBe(404);
  });

  it('serves cluster-scoped kinds without a namespace, dropping one sent in the body', async () => {
    const r = await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'scoped', namespace: 'default' } });
    expect(r.status).toBe(201);
    expect(r.body.metadata?.namespace).toBeUndefined();
    expect((await api('GET', '/api/v1/nodes/scoped')).status).toBe(200);
  });

  it('serves a named group under /apis/{group}/{version}', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const r = await api('POST', path, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} });
    expect(r.status).toBe(201);
    expect(r.body.spec).toEqual({ replicas: 1 });
    const missing = await api<Status>('GET', `${path}/nope`);
    expect(missing.body).toMatchObject({ code: 404, message: 'deployments.apps "nope" not found', details: { name: 'nope', group: 'apps', kind: 'deployments' } });
  });
});

describe('get and list', () => {
  beforeAll(async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'listing' } });
    await createPod('l-web-1', { labels: { app: 'web', tier: 'fe' }, nodeName: 'node-1' }, 'listing');
    await createPod('l-web-2', { labels: { app: 'web', tier: 'be' }, nodeName: 'node-2' }, 'listing');
    await createPod('l-db', { labels: { app: 'db' } }, 'listing');
  });

  const names = async (path: string): Promise<string[]> => {
    const r = await api<{ items: Obj[] }>('GET', path);
    expect(r.status, r.text).toBe(200);
    return r.body.items.map((o) => o.metadata?.name ?? '');
  };

  it('answers 404 with the Kubernetes sentence for a missing object', async () => {
    const r = await api<Status>('GET', podsPath('listing', 'ghost'));
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "ghost" not found', details: { name: 'ghost', kind: 'pods' }, code: 404 });
  });

  it('lists as PodList with the store resourceVersion', async () => {
    const r = await api<{ kind: string; apiVersion: string; metadata: { resourceVersion: string }; items: Obj[] }>('GET', podsPath('listing'));
    expect([r.body.kind, r.body.apiVersion]).toEqual(['PodList', 'v1']);
    expect(Number(r.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Math.max(...r.body.items.map(rv)));
  });

  it.each([
    ['no selector', '', ['l-db', 'l-web-1', 'l-web-2']],
    ['labelSelector app=web', '?labelSelector=app%3Dweb', ['l-web-1', 'l-web-2']],
    ['labelSelector tier in (fe)', '?labelSelector=tier%20in%20(fe)', ['l-web-1']],
    ['labelSelector !tier', '?labelSelector=!tier', ['l-db']],
    ['fieldSelector spec.nodeName=node-1', '?fieldSelector=spec.nodeName%3Dnode-1', ['l-web-1']],
    ['fieldSelector spec.nodeName= (unbound)', '?fieldSelector=spec.nodeName%3D', ['l-db']],
    ['fieldSelector metadata.name', '?fieldSelector=metadata.name%3Dl-db', ['l-db']],
    ['fieldSelector status.phase!=Pending', '?fieldSelector=status.phase!%3DPending', []],
    ['both selectors', '?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dnode-2', ['l-web-2']],
  ])('filters with %s', async (_what, query, expected) => {
    expect(await names(podsPath('listing') + query)).toEqual(expected);
  });

  it('lists across namespaces at /api/v1/pods', async () => {
    const all = await names('/api/v1/pods?labelSelector=app');
    expect(all).toEqual(expect.arrayContaining(['l-db', 'l-web-1', 'l-web-2']));
  });

  it.each([
    ['an unsupported field', '?fieldSelector=spec.foo%3Dx', 'field label not supported: spec.foo'],
    ['metadata.namespace on a cluster-scoped kind', '?fieldSelector=metadata.namespace%3Dx', 'field label not supported: metadata.namespace'],
    ['a malformed label selector', '?labelSelector=a%20%3D%3D%3D', undefined],
  ])('answers 400 for %s', async (_what, query, message) => {
    const path = message?.includes('namespace') ? `/api/v1/nodes${query}` : podsPath('listing') + query;
    const r = await api<Status>('GET', path);
    expect(r.status).toBe(400);
    expect(r.body.reason).toBe('BadRequest');
    if (message) expect(r.body.message).toBe(message);
  });

  it('answers kubectl\'s Table request with the pod columns', async () => {
    const r = await api<{ kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: Obj }[] }>(
      'GET', `${podsPath('listing')}?labelSelector=app%3Ddb`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(r.body.kind).toBe('Table');
    expect(r.body.columnDefinitions.slice(0, 5).map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(r.body.rows[0].cells.slice(0, 5)).toEqual(['l-db', '0/1', 'Pending', '0', '0s']); // RESTARTS is a string column (`3 (5m ago)`), as in Kubernetes
    expect(r.body.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'l-db' } });
  });
});

describe('update', () => {
  it('replaces the object and gives it a new resourceVersion', async () => {
    const p = await createPod('upd-1');
    const r = await api('PUT', podsPath('default', 'upd-1'), { ...p, metadata: { ...p.metadata, labels: { a: 'b' } } });
    expect(r.status).toBe(200);
    expect(r.body.metadata?.labels).toEqual({ a: 'b' });
    expect(rv(r.body)).toBeGreaterThan(rv(p));
  });

  it('answers a stale resourceVersion with 409 Conflict in Kubernetes\' words', async () => {
    const p = await createPod('upd-2');
    await api('PUT', podsPath('default', 'upd-2'), { ...p, metadata: { ...p.metadata, labels: { v: '2' } } });
    const r = await api<Status>('PUT', podsPath('default', 'upd-2'), { ...p, metadata: { ...p.metadata, labels: { v: '3' } } });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      reason: 'Conflict', code: 409, details: { name: 'upd-2', kind: 'pods' },
      message: 'Operation cannot be fulfilled on pods "upd-2": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect((await api('GET', podsPath('default', 'upd-2'))).body.metadata?.labels).toEqual({ v: '2' });
  });

  it('updates unconditionally without a resourceVersion', async () => {
    const p = await createPod('upd-3');
    await api('PUT', podsPath('default', 'upd-3'), { ...p, metadata: { ...p.metadata, labels: { v: '2' } } });
    const { resourceVersion: _drop, ...meta } = p.metadata ?? {};
    const r = await api('PUT', podsPath('default', 'upd-3'), { ...p, metadata: { ...meta, labels: { v: '3' } } });
    expect(r.status).toBe(200);
    expect(r.body.metadata?.labels).toEqual({ v: '3' });
  });

  it('keeps uid and creationTimestamp, refusing a different uid (422)', async () => {
    const p = await createPod('upd-4');
    now = new Date('2025-03-01T13:00:00Z');
    const r = await api('PUT', podsPath('default', 'upd-4'), { ...p, metadata: { ...p.metadata, creationTimestamp: '1999-01-01T00:00:00Z' } });
    now = new Date('2025-03-01T12:00:00Z');
    expect(r.body.metadata?.creationTimestamp).toBe(p.metadata?.creationTimestamp);
    expect(r.body.metadata?.uid).toBe(p.metadata?.uid);
    const bad = await api<Status>('PUT', podsPath('default', 'upd-4'), { ...r.body, metadata: { ...r.body.metadata, uid: 'other' } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe('Pod "upd-4" is invalid: metadata.uid: Invalid value: "other": field is immutable');
  });

  it('bumps generation when spec changes, not when only metadata does', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const d = (await api('POST', path, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'upd-5' }, spec: {} })).body;
    expect(d.metadata?.generation).toBe(1);
    const labelled = await api('PUT', `${path}/upd-5`, { ...d, metadata: { ...d.metadata, labels: { x: 'y' } } });
    expect(labelled.body.metadata?.generation).toBe(1);
    const respec = await api('PUT', `${path}/upd-5`, { ...labelled.body, spec: { replicas: 5 } });
    expect(respec.body.metadata?.generation).toBe(2);
  });

  it('refuses a body whose name differs from the URL (400)', async () => {
    const p = await createPod('upd-6');
    const r = await api<Status>('PUT', podsPath('default', 'upd-6'), { ...p, metadata: { ...p.metadata, name: 'other' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('the name of the object (other) does not match the name on the URL (upd-6)');
  });

  it('answers 404 for a missing object', async () => {
    expect((await api('PUT', podsPath('default', 'nobody'), pod('nobody'))).status).toBe(404);
  });

  it('does not write (no new resourceVersion) when nothing changes', async () => {
    const p = await createPod('upd-7');
    const r = await api('PUT', podsPath('default', 'upd-7'), p);
    expect(r.body.metadata?.resourceVersion).toBe(p.metadata?.resourceVersion);
  });
});

describe('status subresource', () => {
  it('changes status only: spec and labels in the body are ignored', async () => {
    const p = await createPod('st-1');
    const r = await api('PUT', podsPath('default', 'st-1', 'status'), {
      ...p, metadata: { ...p.metadata, labels: { sneaky: 'yes' } }, spec: { containers: [{ name: 'other', image: 'x' }] }, status: { phase: 'Running' },
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toEqual({ phase: 'Running' });
    expect(r.body.spec).toEqual(p.spec);
    expect(r.body.metadata?.labels).toBeUndefined();
    expect(r.body.metadata?.generation).toBeUndefined();
  });

  it('keeps the stored status when the main resource is updated', async () => {
    const p = await createPod('st-2');
    await api('PATCH', podsPath('default', 'st-2', 'status'), { status: { phase: 'Running', podIP: '10.0.0.1' } }, { contentType: 'application/merge-patch+json' });
    const r = await api('PUT', podsPath('default', 'st-2'), { ...p, metadata: { ...p.metadata, resourceVersion: undefined }, status: { phase: 'Failed' } });
    expect(r.body.status).toEqual({ phase: 'Running', podIP: '10.0.0.1' });
  });

  it('is readable with GET', async () => {
    await createPod('st-3');
    expect((await api('GET', podsPath('default', 'st-3', 'status'))).body.metadata?.name).toBe('st-3');
  });
});

describe('patch', () => {
  it('applies a JSON merge patch (null deletes)', async () => {
    await createPod('pa-1', { labels: { a: '1', b: '2' } });
    const r = await api('PATCH', podsPath('default', 'pa-1'), { metadata: { labels: { a: null, c: '3' } } }, { contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(200);
    expect(r.body.metadata?.labels).toEqual({ b: '2', c: '3' });
  });

  it('merges containers by name in a strategic merge patch, as kubectl sends it', async () => {
    await createPod('pa-2', { containers: ['a', 'b'] });
    const r = await api('PATCH', podsPath('default', 'pa-2'), {
      spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b', image: 'nginx' }] },
    }, { contentType: 'application/strategic-merge-patch+json' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec?.containers).toEqual([{ name: 'a', image: 'busybox' }, { name: 'b', image: 'nginx' }]);
  });

  it('removes a list item with $patch: delete', async () => {
    await createPod('pa-3', { containers: ['a', 'b'] });
    const r = await api('PATCH', podsPath('default', 'pa-3'), { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
      { contentType: 'application/strategic-merge-patch+json' });
    expect(r.body.spec?.containers).toEqual([{ name: 'b', image: 'busybox' }]);
  });

  it('applies a JSON patch, and answers a failed test operation with 422', async () => {
    await createPod('pa-4');
    const ok = await api('PATCH', podsPath('default', 'pa-4'), [
      { op: 'test', path: '/spec/containers/0/name', value: 'app' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx' },
      { op: 'add', path: '/metadata/labels', value: { x: 'y' } },
    ], { contentType: 'application/json-patch+json' });
    expect(ok.status, ok.text).toBe(200);
    expect([ok.body.spec?.containers, ok.body.metadata?.labels]).toEqual([[{ name: 'app', image: 'nginx' }], { x: 'y' }]);
    const bad = await api<Status>('PATCH', podsPath('default', 'pa-4'), [{ op: 'test', path: '/spec/containers/0/name', value: 'nope' }],
      { contentType: 'application/json-patch+json' });
    expect(bad.status).toBe(422);
  });

  it('treats a resourceVersion in the patch as a precondition (409 when stale)', async () => {
    const p = await createPod('pa-5');
    await api('PATCH', podsPath('default', 'pa-5'), { metadata: { labels: { a: '1' } } }, { contentType: 'application/merge-patch+json' });
    const r = await api('PATCH', podsPath('default', 'pa-5'), { metadata: { resourceVersion: p.metadata?.resourceVersion, labels: { a: '2' } } },
      { contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(409);
  });

  it('validates the patched object (422) and refuses unknown patch types (415)', async () => {
    await createPod('pa-6');
    const invalid = await api<Status>('PATCH', podsPath('default', 'pa-6'), { spec: { containers: [{ name: 'app', image: null }] } },
      { contentType: 'application/merge-patch+json' });
    expect(invalid.status).toBe(422);
    const r = await api<Status>('PATCH', podsPath('default', 'pa-6'), {}, { contentType: 'application/apply-patch+cbor' });
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
  });

  it('answers 404 for a missing object', async () => {
    expect((await api('PATCH', podsPath('default', 'nobody'), {}, { contentType: 'application/merge-patch+json' })).status).toBe(404);
  });
});

describe('binding', () => {
  it('assigns the pod to the node and marks it PodScheduled, answering a 201 Success Status', async () => {
    await createPod('b-1');
    const r = await bind('b-1', 'node-1');
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const p = (await api('GET', podsPath('default', 'b-1'))).body;
    expect(p.spec?.nodeName).toBe('node-1');
    expect(p.status?.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-03-01T12:00:00Z' }]);
  });

  it('refuses a second binding with 409 Conflict', async () => {
    await createPod('b-2');
    await bind('b-2', 'node-1');
    const r = await bind('b-2', 'node-2');
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ reason: 'Conflict', message: 'Operation cannot be fulfilled on pods/binding "b-2": pod b-2 is already assigned to node "node-1"' });
  });

  it.each([
    ['a missing pod', 'ghost', { target: { kind: 'Node', name: 'n' } }, 404],
    ['a binding without target name', 'b-3', { target: { kind: 'Node' } }, 422],
    ['a target that is not a Node', 'b-3', { target: { kind: 'Pod', name: 'n' } }, 422],
    ['a binding named differently from the URL', 'b-3', { metadata: { name: 'other' }, target: { name: 'n' } }, 400],
  ])('refuses %s', async (_what, name, body, code) => {
    if (name === 'b-3') await api('POST', podsPath(), pod('b-3'));
    const r = await api<Status>('POST', podsPath('default', name, 'binding'), { apiVersion: 'v1', kind: 'Binding', ...body });
    expect(r.status, r.text).toBe(code);
  });
});

describe('delete', () => {
  it('answers a DELETE that removed the object with a Success Status naming it (uid too); a pod with the pod, as Kubernetes', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const d = (await api('POST', path, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'del-status' }, spec: {} })).body;
    const r = await api('DELETE', `${path}/del-status`);
    expect([r.status, r.body]).toEqual([200, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'del-status', group: 'apps', kind: 'deployments', uid: d.metadata?.uid },
    }]);
    await createPod('del-obj');
    const p = await api('DELETE', podsPath('default', 'del-obj'));
    expect([p.status, p.body.kind, p.body.metadata?.name]).toEqual([200, 'Pod', 'del-obj']);
  });

  it('deletes an unbound pod at once and answers with the object', async () => {
    await createPod('d-1');
    const r = await api('DELETE', podsPath('default', 'd-1'));
    expect(r.status).toBe(200);
    expect(r.body.metadata?.name).toBe('d-1');
    expect((await api('GET', podsPath('default', 'd-1'))).status).toBe(404);
  });

  it('deletes a bound pod gracefully: deletionTimestamp = now + 30 s, then for real with gracePeriodSeconds=0', async () => {
    await createPod('d-2', { nodeName: 'node-1' });
    const r = await api('DELETE', podsPath('default', 'd-2'));
    expect(r.status).toBe(200);
    expect(r.body.metadata).toMatchObject({ deletionTimestamp: '2025-03-01T12:00:30Z', deletionGracePeriodSeconds: 30 });
    expect((await api('GET', podsPath('default', 'd-2'))).body.metadata?.deletionTimestamp).toBe('2025-03-01T12:00:30Z');
    const again = await api('DELETE', podsPath('default', 'd-2'));
    expect(again.body.metadata?.deletionGracePeriodSeconds).toBe(30);
    const force = await api('DELETE', podsPath('default', 'd-2'), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    expect(force.status).toBe(200);
    expect((await api('GET', podsPath('default', 'd-2'))).status).toBe(404);
  });

  it.each([
    ['the pod\'s terminationGracePeriodSeconds', { spec: { terminationGracePeriodSeconds: 7 } }, '', undefined, 7],
    ['DeleteOptions gracePeriodSeconds', {}, '', { gracePeriodSeconds: 5 }, 5],
    ['the gracePeriodSeconds query parameter', {}, '?gracePeriodSeconds=3', undefined, 3],
    ['a negative grace period, as 1 s', {}, '?gracePeriodSeconds=-5', undefined, 1],
  ])('takes the grace period from %s', async (_what, extra, query, body, seconds) => {
    const name = `d-g${seconds}`;
    await createPod(name, { nodeName: 'node-1', ...extra });
    const r = await api('DELETE', podsPath('default', name) + query, body);
    expect(r.body.metadata?.deletionGracePeriodSeconds).toBe(seconds);
  });

  it('deletes a finished pod at once even if bound', async () => {
    await createPod('d-3', { nodeName: 'node-1' });
    await api('PATCH', podsPath('default', 'd-3', 'status'), { status: { phase: 'Succeeded' } }, { contentType: 'application/merge-patch+json' });
    await api('DELETE', podsPath('default', 'd-3'));
    expect((await api('GET', podsPath('default', 'd-3'))).status).toBe(404);
  });

  it('lets a later DELETE shorten the grace period, counted from the first request', async () => {
    await createPod('d-4', { nodeName: 'node-1' });
    await api('DELETE', podsPath('default', 'd-4'));
    now = new Date('2025-03-01T12:00:05Z');
    const r = await api('DELETE', `${podsPath('default', 'd-4')}?gracePeriodSeconds=10`);
    now = new Date('2025-03-01T12:00:00Z');
    expect(r.body.metadata).toMatchObject({ deletionTimestamp: '2025-03-01T12:00:10Z', deletionGracePeriodSeconds: 10 });
  });

  it('honours resourceVersion and uid preconditions (409 Conflict)', async () => {
    const p = await createPod('d-5');
    const stale = await api<Status>('DELETE', podsPath('default', 'd-5'), { preconditions: { resourceVersion: '1' } });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toBe(`Operation cannot be fulfilled on pods "d-5": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${p.metadata?.resourceVersion}`);
    const wrongUid = await api<Status>('DELETE', podsPath('default', 'd-5'), { preconditions: { uid: 'x' } });
    expect(wrongUid.body.message).toBe(`Operation cannot be fulfilled on pods "d-5": Precondition failed: UID in precondition: x, UID in object meta: ${p.metadata?.uid}`);
    expect((await api('DELETE', podsPath('default', 'd-5'), { preconditions: { uid: p.metadata?.uid, resourceVersion: p.metadata?.resourceVersion } })).status).toBe(200);
  });

  it('keeps an object with finalizers until the last one is removed', async () => {
    await api('POST', podsPath(), { ...pod('d-6'), metadata: { name: 'd-6', finalizers: ['example.com/hold'] } });
    const r = await api('DELETE', podsPath('default', 'd-6'));
    expect(r.body.metadata).toMatchObject({ deletionTimestamp: '2025-03-01T12:00:00Z', deletionGracePeriodSeconds: 0 });
    expect((await api('GET', podsPath('default', 'd-6'))).status).toBe(200);
    await api('PATCH', podsPath('default', 'd-6'), { metadata: { finalizers: null } }, { contentType: 'application/merge-patch+json' });
    expect((await api('GET', podsPath('default', 'd-6'))).status).toBe(404);
  });

  it('accepts propagationPolicy in DeleteOptions', async () => {
    await createPod('d-7');
    expect((await api('DELETE', podsPath('default', 'd-7'), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' })).status).toBe(200);
  });

  it('deletes a collection by label selector', async () => {
    await createPod('d-8a', { labels: { batch: 'd8' } });
    await createPod('d-8b', { labels: { batch: 'd8' } });
    await createPod('d-8c');
    const r = await api<{ items: Obj[] }>('DELETE', `${podsPath()}?labelSelector=batch%3Dd8`);
    expect(r.body.items.map((o) => o.metadata?.name)).toEqual(['d-8a', 'd-8b']);
    expect((await api('GET', podsPath('default', 'd-8c'))).status).toBe(200);
  });

  it('answers 404 for a missing object', async () => {
    expect((await api('DELETE', podsPath('default', 'nobody'))).status).toBe(404);
  });
});

describe('watch', () => {
  const readers: WatchReader[] = [];
  const watch = (path: string): WatchReader => {
    const w = new WatchReader(base, path);
    readers.push(w);
    return w;
  };
  afterAll(() => readers.forEach((w) => w.stop()));

  beforeAll(async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'w' } });
  });
  const wPods = (q: string) => `/api/v1/namespaces/w/pods?watch=true${q}`;

  it('sends synthetic ADDED events for current objects first when no resourceVersion is given, then changes', async () => {
    await createPod('w-1', {}, 'w');
    const w = watch(wPods(''));
    expect(await w.take(1)).toEqual(['ADDED w-1']);
    expect(w.contentType).toBe('application/json');
    await createPod('w-2', {}, 'w');
    await api('PATCH', podsPath('w', 'w-1'), { metadata: { labels: { x: 'y' } } }, { contentType: 'application/merge-patch+json' });
    await api('DELETE', podsPath('w', 'w-2'));
    expect(await w.take(3)).toEqual(['ADDED w-2', 'MODIFIED w-1', 'DELETED w-2']);
    w.stop();
  });

  it('treats resourceVersion=0 like no resourceVersion', async () => {
    const w = watch(wPods('&resourceVersion=0&fieldSelector=metadata.name%3Dw-1'));
    expect(await w.take(1)).toEqual(['ADDED w-1']);
    w.stop();
  });

  it('resumes after a resourceVersion: every change since, in order, nothing before', async () => {
    const a = await createPod('w-3', {}, 'w');
    await createPod('w-4', {}, 'w');
    await api('DELETE', podsPath('w', 'w-3'));
    const w = watch(wPods(`&resourceVersion=${a.metadata?.resourceVersion}`));
    expect(await w.take(2)).toEqual(['ADDED w-4', 'DELETED w-3']);
    await createPod('w-5', {}, 'w');
    expect(await w.take(1)).toEqual(['ADDED w-5']);
    expect(await w.pending()).toBe(0);
    w.stop();
  });

  it('sends a bound pod as ADDED to a watcher of its node, MODIFIED while it stays, DELETED when it goes', async () => {
    const w = watch(wPods('&fieldSelector=spec.nodeName%3Dnode-w'));
    const list = await api<{ metadata: { resourceVersion: string } }>('GET', podsPath('w'));
    await createPod('w-6', {}, 'w');
    await bind('w-6', 'node-w', 'w');
    const added = await w.next();
    expect([added.type, added.object.metadata?.name, (added.object as Obj).spec?.nodeName]).toEqual(['ADDED', 'w-6', 'node-w']);
    expect(rv(added.object)).toBeGreaterThan(Number(list.body.metadata.resourceVersion));
    await api('PATCH', podsPath('w', 'w-6', 'status'), { status: { phase: 'Running' } }, { contentType: 'application/merge-patch+json' });
    expect(await w.take(1)).toEqual(['MODIFIED w-6']);
    await api('DELETE', `${podsPath('w', 'w-6')}?gracePeriodSeconds=0`);
    expect(await w.take(1)).toEqual(['DELETED w-6']);
    w.stop();
  });

  it('sends DELETED (previous state, new resourceVersion) when an object stops matching the label selector', async () => {
    await createPod('w-7', { labels: { role: 'x' } }, 'w');
    const w = watch(wPods('&labelSelector=role%3Dx'));
    expect(await w.take(1)).toEqual(['ADDED w-7']);
    const patched = await api('PATCH', podsPath('w', 'w-7'), { metadata: { labels: { role: 'y' } } }, { contentType: 'application/merge-patch+json' });
    const e = await w.next();
    expect(e.type).toBe('DELETED');
    expect(e.object.metadata?.labels).toEqual({ role: 'x' });
    expect(e.object.metadata?.resourceVersion).toBe(patched.body.metadata?.resourceVersion);
    await api('PATCH', podsPath('w', 'w-7'), { metadata: { labels: { role: 'x' } } }, { contentType: 'application/merge-patch+json' });
    expect(await w.take(1)).toEqual(['ADDED w-7']);
    w.stop();
  });

  it('sends BOOKMARK events carrying the resourceVersion when allowed', async () => {
    const w = watch(wPods('&fieldSelector=metadata.name%3Dnobody&allowWatchBookmarks=true'));
    const last = await createPod('w-8', {}, 'w');
    const e = await w.next(2000);
    expect(e.type).toBe('BOOKMARK');
    expect(e.object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: expect.any(String) } });
    expect(rv(e.object)).toBeGreaterThanOrEqual(rv(last));
    w.stop();
  });

  it('ends the stream after timeoutSeconds', async () => {
    const w = watch(wPods('&resourceVersion=0&timeoutSeconds=1&fieldSelector=metadata.name%3Dnobody'));
    const t0 = Date.now();
    await w.done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(w.status).toBe(200);
  });

  it('watches across namespaces and cluster-scoped kinds', async () => {
    const w = watch('/api/v1/nodes?watch=1&resourceVersion=0&fieldSelector=metadata.name%3Dwatched-node');
    await createNode('watched-node');
    expect(await w.take(1)).toEqual(['ADDED watched-node']);
    w.stop();
  });

  it('answers a compacted resourceVersion with one ERROR event (410 Expired Status) and ends', async () => {
    const s = await start([PODS_DEF, NAMESPACES_DEF], new SqliteStore(':memory:', { historySize: 5 }));
    try {
      const first = await call<Obj>(s.url, 'POST', podsPath(), { body: pod('e-0') });
      for (let i = 1; i < 20; i++) await call(s.url, 'POST', podsPath(), { body: pod(`e-${i}`) });
      const w = new WatchReader(s.url, `${podsPath()}?watch=true&resourceVersion=${first.body.metadata?.resourceVersion}`);
      const e = await w.next();
      expect(e.type).toBe('ERROR');
      expect(e.object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/) });
      await w.done;
      expect(w.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('answers a resourceVersion that is not a number with 400', async () => {
    expect((await api('GET', wPods('&resourceVersion=abc'))).status).toBe(400);
  });

  it('ends open watches when the server closes', async () => {
    const s = await start([PODS_DEF, NAMESPACES_DEF]);
    const w = new WatchReader(s.url, `${podsPath()}?watch=true`);
    // An event proves the watch is open (a fixed pause did not, on a loaded machine).
    await call(s.url, 'POST', podsPath(), { body: pod('before-close') });
    expect((await w.next()).type).toBe('ADDED');
    await s.close();
    await w.done;
  });

  it('streams one-row Tables to kubectl get -w', async () => {
    const res = await fetch(`${base}${wPods('&fieldSelector=metadata.name%3Dw-1')}`, {
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const event = JSON.parse(new TextDecoder().decode(value).split('\n')[0]) as { type: string; object: { kind: string; rows: { cells: unknown[] }[] } };
    expect(event.type).toBe('ADDED');
    expect(event.object.kind).toBe('Table');
    expect(event.object.rows[0].cells[0]).toBe('w-1');
  });
});

describe('log and exec (proxied to the kubelet)', () => {
  let kubelet: FakeKubelet;
  beforeAll(async () => {
    kubelet = await startFakeKubelet(TOKEN);
    await createNode('node-k', kubelet.port);
    await createPod('k-1', { nodeName: 'node-k' });
    await createPod('k-2', { nodeName: 'node-k', containers: ['a', 'b'] });
    await createPod('k-3');
    await createNode('node-down', 1);
    await createPod('k-4', { nodeName: 'node-down' });
  });
  afterAll(async () => {
    await kubelet.close();
  });

  it('streams the only container\'s log, passing the query and the token to the kubelet', async () => {
    const r = await api('GET', `${podsPath('default', 'k-1', 'log')}?tailLines=5&timestamps=true`);
    expect([r.status, r.text]).toEqual([200, 'line 1\nline 2\n']);
    const req = kubelet.requests.at(-1);
    expect(req).toMatchObject({ method: 'GET', url: '/containerLogs/default/k-1/app?timestamps=true&tailLines=5', auth: `Bearer ${TOKEN}` });
  });

  it('picks the named container', async () => {
    await api('GET', `${podsPath('default', 'k-2', 'log')}?container=b`);
    expect(kubelet.requests.at(-1)?.url).toBe('/containerLogs/default/k-2/b');
  });

  it.each([
    ['no container named in a two-container pod', 'k-2', '', 'a container name must be specified for pod k-2, choose one of: [a b]'],
    ['a container the pod does not have', 'k-1', '?container=zzz', 'container zzz is not valid for pod k-1'],
    ['an unscheduled pod', 'k-3', '', 'pod k-3 does not have a host assigned'],
  ])('answers 400 for %s', async (_what, name, query, message) => {
    const r = await api<Status>('GET', podsPath('default', name, 'log') + query);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', message });
  });

  it('passes a kubelet error on as a Status with its code', async () => {
    await createPod('k-5', { nodeName: 'node-k', containers: ['missing'] });
    const r = await api<Status>('GET', podsPath('default', 'k-5', 'log'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', message: 'container "missing" in pod "web" is waiting to start: ContainerCreating' });
  });

  it('answers 503 with a sentence when the kubelet cannot be reached', async () => {
    const r = await api<Status>('GET', podsPath('default', 'k-4', 'log'));
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' });
    expect(r.body.message).toMatch(/^Get "http:\/\/127\.0\.0\.1:1\/containerLogs\/default\/k-4\/app": dial tcp 127\.0\.0\.1:1: connect: connection refused$/);
  });

  it('aborts the kubelet stream when the client of a follow goes away', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}${podsPath('default', 'k-1', 'log')}?follow=true`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: ctrl.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('line 1');
    ctrl.abort();
    await kubelet.followClosed;
  });

  it('passes an exec WebSocket upgrade through to the kubelet, with the kubelet token and a checked query', async () => {
    const messages: Buffer[] = [];
    const ws = new WebSocket(`${base.replace('http', 'ws')}${podsPath('default', 'k-1', 'exec')}?command=echo&command=hi&stdout=1&stdin=false`, ['v5.channel.k8s.io'], { headers: { Authorization: `Bearer ${TOKEN}` } });
    ws.on('message', (m: Buffer) => messages.push(m));
    await new Promise<void>((resolve, reject) => {
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    expect(messages.map((m) => [m[0], m.subarray(1).toString()])).toEqual([
      [1, 'echo hi'],
      [3, JSON.stringify({ metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })],
    ]);
    expect(kubelet.requests.at(-1)).toMatchObject({ method: 'GET', url: '/exec/default/k-1/app?command=echo&command=hi&stdout=true', auth: `Bearer ${TOKEN}` });
  });

  it('refuses exec without an upgrade (400), as Kubernetes does', async () => {
    const r = await api<Status>('POST', `${podsPath('default', 'k-1', 'exec')}?command=ls`, '');
    expect(r.body).toMatchObject({ code: 400, message: 'Upgrade request required' });
  });

  it('checks a streaming (SPDY/WebSocket) exec upgrade before passing it to the kubelet: no command is a 400 Status', async () => {
    const before = kubelet.requests.length;
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${base}${podsPath('default', 'k-1', 'exec')}?stdout=true`);
      const req = http.request(url, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(JSON.parse(body) as Status).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'you must specify at least 1 command' });
    expect(kubelet.requests.length).toBe(before);
  });

});

describe('kubectl against the server', () => {
  const skip = !existsSync('/usr/bin/kubectl');
  let ks: KubectlServer;
  let dir: string;
  const k = async (...args: string[]): Promise<string> => (await ks.kubectl(...args)).out;

  beforeAll(async () => {
    if (skip) return;
    ks = await startKubectlServer();
    dir = ks.dir;
    writeFileSync(join(dir, 'pod.yaml'), [
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: web', '  labels:', '    app: web',
      'spec:', '  containers:', '  - name: nginx', '    image: nginx:1.27', '',
    ].join('\n'));
    writeFileSync(join(dir, 'node.yaml'), [
      'apiVersion: v1', 'kind: Node', 'metadata:', '  name: node-1',
      'status:', '  conditions:', '  - type: Ready', '    status: "True"', '  nodeInfo:', '    kubeletVersion: v1.32.0', '',
    ].join('\n'));
  });
  afterAll(async () => {
    await ks?.close();
  });

  it.skipIf(skip)('gets, applies and deletes pods and gets nodes (skipped when /usr/bin/kubectl is missing)', async () => {
    expect(await k('get', 'pods')).toBe('No resources found in default namespace.\n');
    expect(await k('apply', '-f', join(dir, 'node.yaml'))).toBe('node/node-1 created\n');
    expect(await k('get', 'nodes')).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode-1\s+Ready\s+<none>\s+\S+\s+v1\.32\.0\n$/);
    expect(await k('apply', '-f', join(dir, 'pod.yaml'))).toBe('pod/web created\n');
    expect(await k('get', 'pods')).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+0\/1\s+Pending\s+0\s+\S+\n$/);
    expect(await k('apply', '-f', join(dir, 'pod.yaml'))).toBe('pod/web unchanged\n');
    expect(await k('get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[0].image} {.metadata.labels.app}')).toBe('nginx:1.27 web');
    expect(await k('delete', 'pod', 'web')).toBe('pod "web" deleted\n');
    expect(await k('get', 'pods')).toBe('No resources found in default namespace.\n');
  });
});

describe('many writes under many watchers', () => {
  it('creates pods over HTTP and delivers every change, in order and once, to 50 watchers', async () => {
    const s = await start([PODS_DEF, NAMESPACES_DEF]);
    const watchers: WatchReader[] = [];
    try {
      const list = await call<{ metadata: { resourceVersion: string } }>(s.url, 'GET', podsPath());
      for (let i = 0; i < 50; i++) watchers.push(new WatchReader(s.url, `${podsPath()}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`));
      const n = 500;
      const t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < n) {
          const r = await call(s.url, 'POST', podsPath(), { body: pod(`t-${next++}`) });
          expect(r.status).toBe(201);
        }
      }));
      const createSeconds = (performance.now() - t0) / 1000;
      for (const w of watchers) {
        let last = Number(list.body.metadata.resourceVersion);
        for (let i = 0; i < n; i++) {
          const e = await w.next();
          expect(e.type).toBe('ADDED');
          expect(rv(e.object)).toBe(last + 1);
          last = rv(e.object);
        }
        expect(await w.pending()).toBe(0);
      }
      const totalSeconds = (performance.now() - t0) / 1000;
      console.log(`apiserver: ${Math.round(n / createSeconds)} creates/s over HTTP (8 clients); ${n * watchers.length} watch events to ${watchers.length} watchers in ${totalSeconds.toFixed(2)} s (${Math.round((n * watchers.length) / totalSeconds)} events/s)`);
    } finally {
      watchers.forEach((w) => w.stop());
      await s.close();
    }
  }, 60_000);
});
