/**
 * The API corners real clients rely on, through the API server over HTTP with the real
 * registry: Go ParseBool query booleans (the Python client's `watch=True`), the legacy
 * `/api/v1/watch/...` paths (Ruby's kubeclient), and `as=PartialObjectMetadata[List]`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import { legacyWatch, startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TOKEN, WatchReader, call } from './apiserver.fixtures.js';

let server: ApiServer;
const readers: WatchReader[] = [];
const watch = (path: string): WatchReader => {
  const w = new WatchReader(server.url, path);
  readers.push(w);
  return w;
};
const cm = (name: string, ns = 'default') => call(server.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name, labels: { app: 'x' } }, data: { a: name } } });

beforeAll(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN });
  expect((await cm('first')).status).toBe(201);
});
afterAll(async () => {
  for (const r of readers) r.stop();
  await server.close();
});

describe('ParseBool query booleans', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('watch=%s watches', async (v) => {
    const w = watch(`/api/v1/namespaces/default/configmaps?watch=${v}`);
    expect(await w.take(1)).toEqual(['ADDED first']);
    expect(w.contentType).toBe('application/json');
  });
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False', ''])('watch=%s lists', async (v) => {
    const r = await call(server.url, 'GET', `/api/v1/namespaces/default/configmaps?watch=${v}`);
    expect([r.status, r.body.kind]).toEqual([200, 'ConfigMapList']);
  });
  it('answers 400 with Go\'s message for anything else', async () => {
    const r = await call(server.url, 'GET', '/api/v1/namespaces/default/configmaps?watch=yes');
    expect([r.status, r.body.message]).toEqual([400, 'watch: Invalid value: "yes": strconv.ParseBool: parsing "yes": invalid syntax']);
  });
  it('reads allowWatchBookmarks=True as true', async () => {
    // a bookmark-allowing watch from the Python client; the bookmark arrives on the server's timer
    const w = watch('/api/v1/namespaces/default/configmaps?watch=True&allowWatchBookmarks=True&resourceVersion=0');
    expect(await w.take(1)).toEqual(['ADDED first']);
  });
});

describe('legacy watch paths', () => {
  it.each([
    ['/api/v1/watch/namespaces/default/pods', '/api/v1/namespaces/default/pods', 'watch=true'],
    ['/api/v1/watch/pods', '/api/v1/pods', 'watch=true'],
    ['/api/v1/watch/namespaces/default/pods/web', '/api/v1/namespaces/default/pods', 'fieldSelector=metadata.name%3Dweb&watch=true'],
    ['/api/v1/watch/namespaces/kube-system', '/api/v1/namespaces', 'fieldSelector=metadata.name%3Dkube-system&watch=true'],
    ['/apis/apps/v1/watch/namespaces/default/deployments?labelSelector=a', '/apis/apps/v1/namespaces/default/deployments', 'labelSelector=a&watch=true'],
    ['/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/pods', ''],
  ])('%s → %s?%s', (from, path, query) => {
    const u = new URL(from, 'http://x');
    legacyWatch(u);
    expect([u.pathname, u.searchParams.toString()]).toEqual([path, query]);
  });
  it('streams events through /api/v1/watch/namespaces/{ns}/configmaps and .../{name}', async () => {
    const all = watch('/api/v1/watch/namespaces/default/configmaps');
    const one = watch('/api/v1/watch/namespaces/default/configmaps/second');
    expect(await all.take(1)).toEqual(['ADDED first']);
    expect((await cm('second')).status).toBe(201);
    expect(await all.take(1)).toEqual(['ADDED second']);
    expect(await one.take(1)).toEqual(['ADDED second']);
  });
});

describe('as=PartialObjectMetadata', () => {
  const accept = (as: string) => `application/json;as=${as};g=meta.k8s.io;v=v1,application/json`;
  it('lists metadata only', async () => {
    const r = await call<{ kind: string; apiVersion: string; metadata: { resourceVersion: string }; items: Record<string, unknown>[] }>(
      server.url, 'GET', '/api/v1/namespaces/default/configmaps', { accept: accept('PartialObjectMetadataList') });
    expect([r.status, r.body.kind, r.body.apiVersion]).toEqual([200, 'PartialObjectMetadataList', 'meta.k8s.io/v1']);
    expect(r.body.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(r.body.items[0]).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'first', labels: { app: 'x' } } });
    expect(r.body.items[0].data).toBeUndefined();
  });
  it('gets one object as PartialObjectMetadata', async () => {
    const r = await call(server.url, 'GET', '/api/v1/namespaces/default/configmaps/first', { accept: accept('PartialObjectMetadata') });
    expect(r.body).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: expect.objectContaining({ name: 'first' }) });
  });
  it('watches metadata only', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${server.url}/api/v1/namespaces/default/configmaps?watch=1`, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: accept('PartialObjectMetadata') }, signal: ctrl.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const ev = JSON.parse(text.split('\n')[0]) as { type: string; object: Record<string, unknown> };
    expect(ev.type).toBe('ADDED');
    expect(ev.object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'first' } });
    expect(ev.object.data).toBeUndefined();
  });
});

describe('self-subject reviews', () => {
  it('SelfSubjectReview answers who the admin token is', async () => {
    const r = await call(server.url, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect([r.status, r.body.status]).toEqual([201, { userInfo: { username: 'minikube-lite-admin', groups: ['system:masters', 'system:authenticated'] } }]);
  });
  it('SelfSubjectRulesReview lists everything for system:masters', async () => {
    const r = await call<{ status: Record<string, unknown> }>(server.url, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } } });
    expect(r.status).toBe(201);
    expect(r.body.status).toEqual({
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false,
    });
  });
  it('SelfSubjectRulesReview lists a service account\'s rules from its bindings', async () => {
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    expect((await call(server.url, 'POST', `${rbac}/namespaces/default/roles`, { body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'], resourceNames: ['first'] }] } })).status).toBe(201);
    expect((await call(server.url, 'POST', `${rbac}/namespaces/default/rolebindings`, { body: { metadata: { name: 'rb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'default' }] } })).status).toBe(201);
    // the admin asks as the service account (impersonation)
    const asRobot = await fetch(`${server.url}/apis/authorization.k8s.io/v1/selfsubjectrulesreviews`, {
      method: 'POST', body: JSON.stringify({ kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } }),
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Impersonate-User': 'system:serviceaccount:default:robot' },
    });
    const body = await asRobot.json() as { status: { resourceRules: unknown[] } };
    expect(asRobot.status).toBe(201);
    expect(body.status.resourceRules).toContainEqual({ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['first'] });
    expect(body.status.resourceRules).toContainEqual(expect.objectContaining({ resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }));
  });
  it('refuses a review of another kind with 400', async () => {
    const r = await call(server.url, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'v1', kind: 'Pod' } });
    expect(r.status).toBe(400);
  });
});
