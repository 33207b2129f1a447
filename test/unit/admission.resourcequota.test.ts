/**
 * ResourceQuota: the pure evaluation (usage of pods, services, claims, counts; scopes; what a
 * constrained pod must specify; the exceeded check), then the admission plugin and the
 * resourcequota controller against a real API server (in-memory store, real HTTP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import { validateResourceQuota } from '../../src/api/admissionvalidation.js';
import { quotaColumns } from '../../src/api/admissionrows.js';
import { formatQuantity } from '../../src/api/quantity.js';
import { exceededNames, missingComputeNames, prettyUsage, quotaMatches, sumUsage, usageOf, type Usage } from '../../src/api/quota.js';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { ApiError } from '../../src/api/errors.js';
import { limitRangerAdmission } from '../../src/apiserver/admission/limitranger.js';
import { resourceQuotaAdmission } from '../../src/apiserver/admission/resourcequota.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS, SERVICES } from '../../src/client/client.js';
import { RESOURCE_QUOTAS, ResourceQuotaController } from '../../src/controllers/resourcequota.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const pod = (name: string, ...res: Array<Record<string, Record<string, string>> | undefined>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: res.map((r, i) => ({ name: `c${i}`, image: 'nginx', ...(r ? { resources: r } : {}) })) },
});
const plain = (u: Usage) => Object.fromEntries([...u].map(([k, v]) => [k, formatQuantity(v)]));

describe('quota usage of one object', () => {
  it.each([
    ['a pod: its count and summed compute', '', 'pods', pod('p', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m' } }, { requests: { cpu: '250m' } }),
      { 'count/pods': '1', pods: '1', 'requests.cpu': '500m', cpu: '500m', 'requests.memory': '64Mi', memory: '64Mi', 'limits.cpu': '500m' }],
    ['a finished pod: nothing', '', 'pods', { ...pod('p'), status: { phase: 'Succeeded' } }, {}],
    ['a NodePort service: its ports', '', 'services', { metadata: { name: 's' }, spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } },
      { 'count/services': '1', services: '1', 'services.nodeports': '2' }],
    ['a LoadBalancer service', '', 'services', { metadata: { name: 's' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
      { 'count/services': '1', services: '1', 'services.nodeports': '1', 'services.loadbalancers': '1' }],
    ['a claim: its storage request, also per class', '', 'persistentvolumeclaims', { metadata: { name: 'c' }, spec: { storageClassName: 'standard', resources: { requests: { storage: '1Gi' } } } },
      { 'count/persistentvolumeclaims': '1', persistentvolumeclaims: '1', 'requests.storage': '1Gi',
        'standard.storageclass.storage.k8s.io/persistentvolumeclaims': '1', 'standard.storageclass.storage.k8s.io/requests.storage': '1Gi' }],
    ['a Deployment: count/deployments.apps', 'apps', 'deployments', { metadata: { name: 'd' } }, { 'count/deployments.apps': '1' }],
  ])('%s', (_n, group, resource, obj, expected) => {
    expect(plain(usageOf(group, resource, obj as KubeObject))).toEqual(expected);
  });
});

describe('quota checks', () => {
  it.each([
    ['a pod with no requests under a cpu quota', pod('p', undefined), ['requests.cpu', 'pods'], ['requests.cpu']],
    ['a pod lacking limits under limits and requests', pod('p', { requests: { cpu: '1', memory: '1Gi' } }), ['limits.cpu', 'limits.memory', 'requests.cpu'], ['limits.cpu', 'limits.memory']],
    ['a pod giving everything', pod('p', { requests: { cpu: '1' }, limits: { cpu: '1' } }), ['cpu', 'limits.cpu'], []],
    ['a quota on counts only', pod('p', undefined), ['pods', 'count/pods'], []],
  ])('must specify: %s', (_n, p, hard, missing) => {
    expect(missingComputeNames(p, hard)).toEqual(missing);
  });

  it.each([
    ['within', { pods: '2' }, { pods: '1' }, { pods: '1' }, []],
    ['over', { pods: '2' }, { pods: '2' }, { pods: '1' }, ['pods']],
    ['a name the quota does not set', { pods: '2' }, {}, { services: '1' }, []],
    ['cpu over', { 'requests.cpu': '1' }, { 'requests.cpu': '800m' }, { 'requests.cpu': '250m' }, ['requests.cpu']],
  ])('exceeded: %s', (_n, hard, used, delta, expected) => {
    const u = (r: Record<string, string>) => sumUsage([new Map(Object.entries(r).map(([k, v]) => [k, { nanos: BigInt(Math.round(Number(v.replace('m', '')) * (v.endsWith('m') ? 1e6 : 1e9))), format: 'DecimalSI' as const }]))], Object.keys(r));
    expect(exceededNames(hard, u(used), u(delta))).toEqual(expected);
  });

  it.each([
    ['BestEffort matches a pod without resources', ['BestEffort'], pod('p', undefined), true],
    ['NotBestEffort does not', ['NotBestEffort'], pod('p', undefined), false],
    ['Terminating matches a pod with a deadline', ['Terminating'], { ...pod('p'), spec: { containers: [], activeDeadlineSeconds: 30 } }, true],
    ['NotTerminating does not', ['NotTerminating'], { ...pod('p'), spec: { containers: [], activeDeadlineSeconds: 30 } }, false],
  ])('scopes: %s', (_n, scopes, p, ok) => {
    expect(quotaMatches({ spec: { scopes } }, '', 'pods', p as KubeObject)).toBe(ok);
  });

  it('prints usage as Kubernetes does: sorted name=value', () => {
    expect(prettyUsage({ pods: '2', 'requests.cpu': '1500m' }, ['requests.cpu', 'pods'])).toBe('pods=2,requests.cpu=1500m');
  });

  it('kubectl columns: requests and limits as used/hard', () => {
    const rq: ResourceQuota = { spec: { hard: { pods: '2', 'limits.cpu': '2', 'requests.cpu': '1' } }, status: { hard: { pods: '2', 'limits.cpu': '2', 'requests.cpu': '1' }, used: { pods: '1', 'limits.cpu': '500m' } } };
    expect(quotaColumns(rq)).toEqual({ request: 'pods: 1/2, requests.cpu: 0/1', limit: 'limits.cpu: 500m/2' });
  });

  it.each([
    ['an unknown resource name', { hard: { widgets: '1' } }, 'spec.hard[widgets]'],
    ['a negative quantity', { hard: { pods: '-1' } }, 'spec.hard[pods]'],
    ['an unknown scope', { hard: { pods: '1' }, scopes: ['PriorityClass'] }, 'spec.scopes[0]'],
  ])('validation refuses %s', (_n, spec, field) => {
    expect(validateResourceQuota({ metadata: { name: 'q', namespace: 'default' }, spec } as ResourceQuota).map((e) => e.field)).toContain(field);
  });
});

describe('ResourceQuota admission and controller against a real API server', () => {
  let server: ApiServer;
  let client: ApiClient;
  let controller: ResourceQuotaController;
  const ns = (ref: typeof PODS) => ({ ...ref, namespace: 'default' });

  beforeAll(async () => {
    server = await startApiServer({
      store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 't',
      admission: [limitRangerAdmission, resourceQuotaAdmission],
    });
    client = new ApiClient({ server: server.url, token: 't' });
    controller = new ResourceQuotaController({ client, log: () => undefined });
    await controller.start();
  });
  afterAll(async () => {
    await controller?.stop();
    await server?.close();
  });

  /** Resolves with the quota once `ok` holds (by watch). */
  const quotaWhen = (name: string, ok: (q: ResourceQuota) => boolean) => new Promise<ResourceQuota>((resolve, reject) => {
    const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out waiting for quota ${name}`)); }, 10_000);
    const h = client.watch<ResourceQuota & KubeObject>(ns(RESOURCE_QUOTAS), { fieldSelector: `metadata.name=${name}` }, (e) => {
      if (e.type !== 'ERROR' && e.type !== 'DELETED' && ok(e.object)) { clearTimeout(timer); h.stop(); resolve(e.object); }
    });
  });

  it('refuses the pod over the quota with Kubernetes\' message, and keeps status.used', async () => {
    await client.create(ns(RESOURCE_QUOTAS), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '2', 'requests.cpu': '1', services: '2' } } } as KubeObject);
    await quotaWhen('q', (q) => q.status?.used?.pods === '0');
    const small = { requests: { cpu: '250m' } };
    await client.create(ns(PODS), pod('a', small) as KubeObject);
    await client.create(ns(PODS), pod('b', small) as KubeObject);
    const over = await client.create(ns(PODS), pod('c', small) as KubeObject).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(ApiError);
    expect((over as ApiError).code).toBe(403);
    expect((over as ApiError).message).toBe('pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    const q = await quotaWhen('q', (x) => x.status?.used?.pods === '2');
    // The API server's own `kubernetes` Service counts in `default`.
    expect(q.status).toEqual({ hard: { pods: '2', 'requests.cpu': '1', services: '2' }, used: { pods: '2', 'requests.cpu': '500m', services: '1' } });

    const unset = await client.create(ns(PODS), pod('d', undefined) as KubeObject).catch((e: unknown) => e);
    expect((unset as ApiError).message).toBe('pods "d" is forbidden: failed quota: q: must specify requests.cpu');

    await client.delete(ns(PODS), 'b', { gracePeriodSeconds: 0 });
    const big = await client.create(ns(PODS), pod('e', { requests: { cpu: '800m' } }) as KubeObject).catch((e: unknown) => e);
    expect((big as ApiError).message).toBe('pods "e" is forbidden: exceeded quota: q, requested: requests.cpu=800m, used: requests.cpu=250m, limited: requests.cpu=1');

    await client.create(ns(SERVICES), { apiVersion: 'v1', kind: 'Service', metadata: { name: 's1' }, spec: { ports: [{ port: 80 }] } } as KubeObject);
    const s2 = await client.create(ns(SERVICES), { apiVersion: 'v1', kind: 'Service', metadata: { name: 's2' }, spec: { ports: [{ port: 80 }] } } as KubeObject).catch((e: unknown) => e);
    expect((s2 as ApiError).message).toBe('services "s2" is forbidden: exceeded quota: q, requested: services=1, used: services=2, limited: services=2');
    await quotaWhen('q', (x) => x.status?.used?.services === '2' && x.status?.used?.pods === '1');
  });

  it('counts any kind by count/<resource>.<group>', async () => {
    const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };
    await client.create(ns(RESOURCE_QUOTAS), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'apps' }, spec: { hard: { 'count/deployments.apps': '1' } } } as KubeObject);
    const deployment = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } }) as KubeObject;
    await client.create(DEPLOYMENTS, deployment('one'));
    const second = await client.create(DEPLOYMENTS, deployment('two')).catch((e: unknown) => e);
    expect((second as ApiError).message).toBe('deployments.apps "two" is forbidden: exceeded quota: apps, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1');
  });
});
