import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LimitRange } from 'kubernetes-types/core/v1.js';
import { admitPodLimits, applyLimitRangeDefaults, validateLimitRange } from '../../src/api/limitrange.js';
import { ApiError } from '../../src/api/errors.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS } from '../../src/client/client.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { limitRangerAdmission, resourceQuotaAdmission } from '../../src/apiserver/admission/limits.js';
import { checkQuota, usageOf } from '../../src/api/resourcequota.js';
import { parseQuantity, type Quantity } from '../../src/api/quantity.js';

const parseQ = (s: string): Quantity => {
  const r = parseQuantity(s);
  if (!r.ok) throw new Error(s);
  return r.quantity;
};

function range(item: NonNullable<LimitRange['spec']>['limits'][number]): LimitRange {
  const lr: LimitRange = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits', namespace: 'default' }, spec: { limits: [item] } };
  applyLimitRangeDefaults(lr);
  return lr;
}
const pod = (resources: NonNullable<Pod['spec']>['containers'][number]['resources'] = {}): Pod =>
  ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx', resources }] } });

describe('LimitRange', () => {
  it('defaults a container item\'s default limit from max and default request from the default', () => {
    const lr = range({ type: 'Container', max: { cpu: '1' }, min: { memory: '64Mi' } });
    expect(lr.spec?.limits[0]).toMatchObject({ default: { cpu: '1' }, defaultRequest: { cpu: '1', memory: '64Mi' } });
    expect(validateLimitRange(lr)).toEqual([]);
  });

  it('refuses a min above the max', () => {
    expect(validateLimitRange(range({ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } })).map((e) => e.message))
      .toContain('Invalid value: "2": min value 2 is greater than max value 1');
  });

  it.each<[string, LimitRange, Pod, Record<string, unknown> | undefined, string[]]>([
    ['sets the default limit and request of a container that has none', range({ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' } }), pod(),
      { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } }, []],
    ['keeps what the container sets', range({ type: 'Container', default: { cpu: '500m' } }), pod({ limits: { cpu: '200m' }, requests: { cpu: '200m' } }),
      { limits: { cpu: '200m' }, requests: { cpu: '200m' } }, []],
    ['refuses a limit above the max', range({ type: 'Container', max: { cpu: '1' } }), pod({ limits: { cpu: '2' } }), undefined,
      ['maximum cpu usage per Container is 1, but limit is 2']],
    ['refuses a request below the min', range({ type: 'Container', min: { memory: '128Mi' }, default: { memory: '1Gi' }, defaultRequest: { memory: '256Mi' } }), pod({ requests: { memory: '64Mi' } }), undefined,
      ['minimum memory usage per Container is 128Mi, but request is 64Mi']],
    ['refuses a pod whose containers together exceed the Pod max', range({ type: 'Pod', max: { cpu: '1' } }), pod({ limits: { cpu: '1500m' } }), undefined,
      ['maximum cpu usage per Pod is 1, but limit is 1500m']],
  ])('%s', (_n, lr, p, resources, problems) => {
    const r = admitPodLimits(p, [lr]);
    expect(r.problems).toEqual(problems);
    if (resources) expect(r.pod.spec?.containers[0].resources).toEqual(resources);
  });

  it('records what it set in the kubernetes.io/limit-ranger annotation', () => {
    const r = admitPodLimits(pod(), [range({ type: 'Container', default: { cpu: '500m', memory: '256Mi' } })]);
    expect(r.pod.metadata?.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web');
  });
});

/**
 * Registers an API server with the LimitRanger and ResourceQuota admission plugins for the
 * enclosing describe, with `seed` (a LimitRange or ResourceQuota of `resource`) created in
 * `default`; the returned getter gives its client.
 */
function useAdmissionServer(resource: string, seed: KubeObject): () => ApiClient {
  let server: ApiServer;
  let client: ApiClient;
  const store = new SqliteStore(':memory:');
  beforeAll(async () => {
    server = await startApiServer({ store, resources: RESOURCES, port: 0, token: 't', admission: [limitRangerAdmission, resourceQuotaAdmission] });
    client = new ApiClient({ server: server.url, token: 't' });
    await client.create({ group: '', version: 'v1', resource, namespace: 'default' }, seed);
  });
  afterAll(async () => {
    await server.close();
    store.close();
  });
  return () => client;
}

describe('LimitRanger admission in the API server', () => {
  const api = useAdmissionServer('limitranges',
    { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'cpu' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '250m' }, max: { cpu: '1' } }] } } as KubeObject);

  it('lands the default in a created pod and makes it Burstable', async () => {
    const created = await api().create<Pod & KubeObject>({ ...PODS, namespace: 'default' }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'defaulted' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
    expect(created.spec?.containers[0].resources).toEqual({ limits: { cpu: '500m' }, requests: { cpu: '250m' } });
    expect(created.status?.qosClass).toBe('Burstable');
  });

  it('refuses a pod over the max with 403 Forbidden', async () => {
    const e = await api().create({ ...PODS, namespace: 'default' }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big' },
      spec: { containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: '2' } } }] } } as KubeObject).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe(403);
    expect((e as ApiError).message).toBe('pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });
});

describe('ResourceQuota', () => {
  const quota = (hard: Record<string, string>) => ({ metadata: { name: 'compute' }, spec: { hard } });
  it('refuses what would exceed a quota, with Kubernetes\' wording', () => {
    const used = { 'requests.cpu': parseQ('1500m'), pods: parseQ('2') };
    const delta = usageOf('', 'pods', { spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } }] } } as Pod);
    expect(checkQuota(quota({ 'requests.cpu': '2', pods: '10' }), used, delta))
      .toBe('exceeded quota: compute, requested: requests.cpu=1, used: requests.cpu=1500m, limited: requests.cpu=2');
    expect(checkQuota(quota({ pods: '3' }), used, delta)).toBeUndefined();
    expect(checkQuota(quota({ pods: '2' }), used, delta)).toBe('exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2');
  });
  it('asks a pod to set every compute resource a quota tracks', () => {
    const p = { spec: { containers: [{ name: 'web', image: 'x' }] } } as Pod;
    expect(checkQuota(quota({ 'limits.memory': '1Gi', 'requests.cpu': '1' }), {}, usageOf('', 'pods', p), p))
      .toBe('failed quota: compute: must specify limits.memory for: web; requests.cpu for: web');
  });
  it('counts any kind as count/<resource>.<group>', () => {
    expect(Object.keys(usageOf('apps', 'deployments', {}))).toEqual(['count/deployments.apps']);
    expect(Object.keys(usageOf('', 'services', {})).sort()).toEqual(['count/services', 'services']);
  });
});

describe('ResourceQuota admission in the API server', () => {
  const api = useAdmissionServer('resourcequotas',
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'two-pods' }, spec: { hard: { pods: '2' } } } as KubeObject);

  it('admits pods up to the quota and refuses the next with 403 exceeded quota', async () => {
    const mk = (name: string) => api().create({ ...PODS, namespace: 'default' }, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject);
    await mk('a');
    await mk('b');
    const e = await mk('c').catch((x: unknown) => x);
    expect((e as ApiError).code).toBe(403);
    expect((e as ApiError).message).toBe('pods "c" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2');
  });
});
