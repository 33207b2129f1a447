/**
 * Server-side apply and managedFields through the API server over HTTP (in-memory store, the
 * real kinds), and stock kubectl's `apply --server-side` against it: create, conflicts with
 * kubectl's words, `--force-conflicts`, moving from client-side apply, `--show-managed-fields`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, Status } from '../../src/api/types.js';
import type { ManagedFieldsEntry } from '../../src/apiserver/managedfields.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { call, startKubectlServer, TOKEN, type KubectlServer } from './apiserver.fixtures.js';

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; data?: Record<string, string> };

let now = new Date('2025-03-01T12:00:00.000Z');
let server: ApiServer;
const APPLY = 'application/apply-patch+yaml';

beforeAll(async () => {
  server = await startApiServer({
    store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, clock: () => now,
    logger: { info: () => undefined, error: () => undefined },
  });
});
afterAll(async () => {
  await server.close();
});

const api = <T = Obj>(method: string, path: string, body?: unknown, opts: { contentType?: string; userAgent?: string } = {}) =>
  call<T>(server.url, method, path, { body, ...opts });
const deploys = '/apis/apps/v1/namespaces/default/deployments';
const managed = (o: KubeObject): ManagedFieldsEntry[] => (o.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
const owners = (o: KubeObject): [string, string, string | undefined][] => managed(o).map((m) => [m.manager, m.operation, m.subresource]);

function deployment(name: string, spec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
      ...spec,
    },
  };
}

describe('managedFields on ordinary writes', () => {
  it('records the User-Agent\'s product as manager of a create, and fieldManager when given', async () => {
    const r = await api('POST', deploys, deployment('ua'), { userAgent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9' });
    expect(r.status, r.text).toBe(201);
    expect(managed(r.body)).toEqual([expect.objectContaining({ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: '2025-03-01T12:00:00Z', fieldsType: 'FieldsV1' })]);
    // Defaults are the creator's too, as in Kubernetes.
    expect(managed(r.body)[0].fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {}, 'f:strategy': { 'f:rollingUpdate': { '.': {} } } } });
    now = new Date('2025-03-01T12:01:00.000Z');
    const p = await api('PATCH', `${deploys}/ua?fieldManager=kubectl-edit`, { spec: { replicas: 4 } }, { contentType: 'application/merge-patch+json' });
    expect(p.status, p.text).toBe(200);
    expect(owners(p.body)).toEqual([['kubectl', 'Update', undefined], ['kubectl-edit', 'Update', undefined]]);
    expect(managed(p.body)[1]).toMatchObject({ time: '2025-03-01T12:01:00Z', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(JSON.stringify(managed(p.body)[0].fieldsV1)).not.toContain('f:replicas');
  });

  it('keeps managedFields a client sends back unchanged (kubectl edit), and takes ones it rewrote', async () => {
    const created = (await api('POST', deploys, deployment('keep'), { userAgent: 'a/1' })).body;
    const put = await api('PUT', `${deploys}/keep?fieldManager=b`, { ...created, spec: { ...created.spec, paused: true } });
    expect(put.status, put.text).toBe(200);
    expect(owners(put.body)).toEqual([['a', 'Update', undefined], ['b', 'Update', undefined]]);
    const reset = await api('PATCH', `${deploys}/keep`, [{ op: 'replace', path: '/metadata/managedFields', value: [managed(put.body)[1]] }],
      { contentType: 'application/json-patch+json' });
    expect(reset.status, reset.text).toBe(200);
    expect(owners(reset.body)).toEqual([['b', 'Update', undefined]]);
  });

  it('records a scale as an Update of the scale subresource', async () => {
    await api('POST', deploys, deployment('sc'), { userAgent: 'kubectl-create/1' });
    const r = await api('PATCH', `${deploys}/sc/scale?fieldManager=kubectl-scale`, { spec: { replicas: 3 } }, { contentType: 'application/merge-patch+json' });
    expect(r.status, r.text).toBe(200);
    const d = (await api('GET', `${deploys}/sc`)).body;
    expect(managed(d).find((m) => m.manager === 'kubectl-scale')).toMatchObject({ operation: 'Update', subresource: 'scale', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
  });

  it('refuses force on a non-apply patch and a manager name longer than 128', async () => {
    const r = await api<Status>('PATCH', `${deploys}/sc?force=true`, {}, { contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    const long = await api<Status>('POST', `${deploys}?fieldManager=${'x'.repeat(129)}`, deployment('long'));
    expect(long.status).toBe(422);
  });
});

describe('PATCH application/apply-patch+yaml', () => {
  it('creates the object when it is absent (201), then updates it (200)', async () => {
    const yaml = ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: ssa', 'spec:', '  replicas: 2',
      '  selector: {matchLabels: {app: ssa}}', '  template:', '    metadata: {labels: {app: ssa}}', '    spec:', '      containers:', '      - name: nginx', '        image: nginx', ''].join('\n');
    const r = await api('PATCH', `${deploys}/ssa?fieldManager=tester`, yaml, { contentType: APPLY });
    expect(r.status, r.text).toBe(201);
    expect(r.body.spec?.replicas).toBe(2);
    expect(managed(r.body)).toEqual([expect.objectContaining({ manager: 'tester', operation: 'Apply', apiVersion: 'apps/v1' })]);
    expect(managed(r.body)[0].fieldsV1).toEqual({
      'f:spec': {
        'f:replicas': {}, 'f:selector': {},
        'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
      },
    });
    const again = await api('PATCH', `${deploys}/ssa?fieldManager=tester`, yaml.replace('replicas: 2', 'replicas: 3'), { contentType: APPLY });
    expect(again.status, again.text).toBe(200);
    expect(again.body.spec?.replicas).toBe(3);
  });

  it('needs a fieldManager (422) and refuses managedFields in the configuration (400)', async () => {
    const r = await api<Status>('PATCH', `${deploys}/ssa`, deployment('ssa'), { contentType: APPLY });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const m = await api<Status>('PATCH', `${deploys}/ssa?fieldManager=x`, { ...deployment('ssa'), metadata: { name: 'ssa', managedFields: [] } }, { contentType: APPLY });
    expect(m.status).toBe(400);
    expect(m.body.message).toBe('metadata.managedFields must be nil');
  });

  it('answers a conflict with 409 naming the field and its manager, and force takes the field', async () => {
    await api('PATCH', `${deploys}/ssa?fieldManager=kubectl-client-side-apply`, { spec: { replicas: 5 } }, { contentType: 'application/merge-patch+json' });
    const r = await api<Status>('PATCH', `${deploys}/ssa?fieldManager=tester`, deployment('ssa', { replicas: 1 }), { contentType: APPLY });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
    });
    const forced = await api('PATCH', `${deploys}/ssa?fieldManager=tester&force=true`, deployment('ssa', { replicas: 1 }), { contentType: APPLY });
    expect(forced.status, forced.text).toBe(200);
    expect(forced.body.spec?.replicas).toBe(1);
    expect(owners(forced.body)).toEqual([['tester', 'Apply', undefined]]);
  });

  it('stores nothing with dryRun=All', async () => {
    const r = await api('PATCH', `${deploys}/dry?fieldManager=tester&dryRun=All`, deployment('dry'), { contentType: APPLY });
    expect(r.status, r.text).toBe(201);
    expect((await api('GET', `${deploys}/dry`)).status).toBe(404);
  });

  it('applies the status subresource, owning status only', async () => {
    const status = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa' }, spec: { replicas: 9 }, status: { conditions: [{ type: 'Available', status: 'True' }] } };
    const r = await api('PATCH', `${deploys}/ssa/status?fieldManager=controller`, status, { contentType: APPLY });
    expect(r.status, r.text).toBe(200);
    expect(r.body.spec?.replicas).toBe(1);
    expect(managed(r.body).find((m) => m.manager === 'controller')).toMatchObject({
      operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } },
    });
  });

  it('applies a kind served in a version it is not stored in (autoscaling/v1 HPA, stored as v2)', async () => {
    const hpa = (max: number) => ({
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ssa' }, minReplicas: 1, maxReplicas: max, targetCPUUtilizationPercentage: 50 },
    });
    const path = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web?fieldManager=tester';
    const created = await api('PATCH', path, hpa(3), { contentType: APPLY });
    expect(created.status, created.text).toBe(201);
    const updated = await api('PATCH', path, hpa(5), { contentType: APPLY });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { maxReplicas: 5, targetCPUUtilizationPercentage: 50 } });
    const v2 = await api('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web');
    expect(v2.body.spec).toMatchObject({ maxReplicas: 5 });
    expect(owners(v2.body)).toContainEqual(['tester', 'Apply', undefined]);
  });

  it('refuses CBOR apply bodies with 415', async () => {
    const r = await api<Status>('PATCH', `${deploys}/ssa?fieldManager=x`, '{}', { contentType: 'application/apply-patch+cbor' });
    expect(r.status).toBe(415);
  });
});

describe('kubectl apply --server-side against the server', () => {
  const skip = !existsSync('/usr/bin/kubectl');
  let ks: KubectlServer;
  let dir: string;
  const k = (...args: string[]): Promise<{ out: string; code: number }> => ks.kubectl(...args);
  const file = (name: string, lines: string[]): string => {
    writeFileSync(join(dir, name), lines.join('\n') + '\n');
    return join(dir, name);
  };
  const deploymentYaml = (replicas: number | undefined, image = 'nginx'): string[] => [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', 'spec:', ...(replicas === undefined ? [] : [`  replicas: ${replicas}`]),
    '  selector:', '    matchLabels: {app: web}', '  template:', '    metadata:', '      labels: {app: web}', '    spec:', '      containers:',
    '      - name: nginx', `        image: ${image}`,
  ];

  beforeAll(async () => {
    if (skip) return;
    ks = await startKubectlServer();
    dir = ks.dir;
  });
  afterAll(async () => {
    await ks?.close();
  });

  it.skipIf(skip)('creates, conflicts with kubectl scale in kubectl\'s words, and wins with --force-conflicts', async () => {
    const f = file('web.yaml', deploymentYaml(2));
    expect(await k('apply', '--server-side', '-f', f)).toEqual({ out: 'deployment.apps/web serverside-applied\n', code: 0 });
    expect(await k('scale', 'deployment', 'web', '--replicas=3')).toEqual({ out: 'deployment.apps/web scaled\n', code: 0 });
    const conflict = await k('apply', '--server-side', '-f', file('web4.yaml', deploymentYaml(4)));
    expect(conflict.code).toBe(1);
    expect(conflict.out).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl" using apps\/v1: \.spec\.replicas\nPlease review the fields above--they currently have other managers/);
    expect(conflict.out).toContain('--force-conflicts');
    expect(await k('apply', '--server-side', '--force-conflicts', '-f', join(dir, 'web4.yaml'))).toEqual({ out: 'deployment.apps/web serverside-applied\n', code: 0 });
    expect((await k('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}')).out).toBe('4');
    const shown = (await k('get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields')).out;
    expect(shown).toContain('manager: kubectl\n    operation: Apply');
    expect(shown).toContain('f:replicas: {}');
    expect((await k('get', 'deployment', 'web', '-o', 'yaml')).out).not.toContain('managedFields');
  });

  it.skipIf(skip)('dry-runs on the server, and keys service ports by port and protocol', async () => {
    const svc = (ports: string[]): string[] => ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: svc', 'spec:', '  selector: {app: web}', '  ports:', ...ports];
    const f = file('svc.yaml', svc(['  - {port: 80, targetPort: 8080, name: http}', '  - {port: 53, protocol: UDP, name: dns}']));
    expect(await k('apply', '--server-side', '--dry-run=server', '-f', f)).toEqual({ out: 'service/svc serverside-applied (server dry run)\n', code: 0 });
    expect((await k('get', 'service', 'svc')).code).toBe(1);
    expect(await k('apply', '--server-side', '-f', f)).toEqual({ out: 'service/svc serverside-applied\n', code: 0 });
    const got = JSON.parse((await k('get', 'service', 'svc', '-o', 'json', '--show-managed-fields')).out) as Obj;
    expect(managed(got)[0].fieldsV1).toMatchObject({ 'f:spec': { 'f:ports': {
      'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {}, 'f:targetPort': {} },
      'k:{"port":53,"protocol":"UDP"}': { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {} },
    } } });
    // Dropping the UDP port from the manifest removes it; the server's allocations stay.
    expect((await k('apply', '--server-side', '-f', file('svc2.yaml', svc(['  - {port: 80, targetPort: 8080, name: http}'])))).code).toBe(0);
    const after = JSON.parse((await k('get', 'service', 'svc', '-o', 'json')).out) as Obj;
    expect((after.spec?.ports as { port: number }[]).map((p) => p.port)).toEqual([80]);
    expect(after.spec?.clusterIP).toBe(got.spec?.clusterIP);
  });

  it.skipIf(skip)('runs the walkthrough of examples/server-side-apply.yaml as its comments say', async () => {
    const example = fileURLToPath(new URL('../../examples/server-side-apply.yaml', import.meta.url));
    expect(await k('apply', '--server-side', '-f', example)).toEqual({ out: 'deployment.apps/ssa-web serverside-applied\n', code: 0 });
    expect((await k('scale', 'deployment', 'ssa-web', '--replicas=3')).code).toBe(0);
    const conflict = await k('apply', '--server-side', '-f', example);
    expect(conflict.code).toBe(1);
    expect(conflict.out).toContain('error: Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas');
    expect((await k('apply', '--server-side', '--force-conflicts', '-f', example)).code).toBe(0);
    expect((await k('get', 'deployment', 'ssa-web', '-o', 'jsonpath={.spec.replicas}')).out).toBe('2');
    expect((await k('delete', '-f', example)).out).toBe('deployment.apps "ssa-web" deleted\n');
  });

  it.skipIf(skip)('still explains fields from the OpenAPI documents that now carry list types', async () => {
    const r = await k('explain', 'pod.spec.containers.ports');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n\nFIELD: ports <\[\]ContainerPort>/);
  });

  it.skipIf(skip)('records kubectl create (a protobuf request and answer) as kubectl-create\'s Update', async () => {
    expect(await k('create', 'deployment', 'pb', '--image=nginx', '--port=80')).toEqual({ out: 'deployment.apps/pb created\n', code: 0 });
    const d = JSON.parse((await k('get', 'deployment', 'pb', '-o', 'json', '--show-managed-fields')).out) as Obj;
    expect(owners(d)).toEqual([['kubectl-create', 'Update', undefined]]);
    expect(managed(d)[0].fieldsV1).toMatchObject({ 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': {
      'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
    } } } } } });
    // The protobuf answer of a typed read carries them too.
    const pb = await k('get', 'deployment', 'pb', '-o', 'yaml', '--show-managed-fields', '-v=8');
    expect(pb.code).toBe(0);
    expect(pb.out).toContain('manager: kubectl-create');
  });

  it.skipIf(skip)('moves an object from client-side apply to server-side apply, which then prunes what it no longer applies', async () => {
    const cm = (data: string[]): string[] => ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: settings', 'data:', ...data];
    expect(await k('apply', '-f', file('cm.yaml', cm(['  a: "1"', '  b: "2"'])))).toEqual({ out: 'configmap/settings created\n', code: 0 });
    const before = JSON.parse((await k('get', 'configmap', 'settings', '-o', 'json', '--show-managed-fields')).out) as KubeObject;
    expect(owners(before)).toEqual([['kubectl-client-side-apply', 'Update', undefined]]);
    expect((await k('apply', '--server-side', '-f', file('cm2.yaml', cm(['  a: "1"'])))).code).toBe(0);
    const after = JSON.parse((await k('get', 'configmap', 'settings', '-o', 'json', '--show-managed-fields')).out) as Obj;
    expect(after.data).toEqual({ a: '1' });
    // kubectl moved the client-side apply fields to its server-side manager, and keeps the
    // last-applied annotation up to date with a manager of its own.
    expect(owners(after)).toEqual([['kubectl', 'Apply', undefined], ['kubectl-last-applied', 'Apply', undefined]]);
    expect(managed(after)[0].fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
    expect(managed(after)[1].fieldsV1).toEqual({ 'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/last-applied-configuration': {} } } });
    expect(JSON.parse(after.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '{}')).toMatchObject({ data: { a: '1' } });
  });
});
