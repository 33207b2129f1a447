/**
 * The API server (real registry, SQLite store) under malformed and hostile input: issue 12's
 * findings 4 (int32/int64 bounds) and 5 (wrong types stored or crashing handlers, deep JSON,
 * huge bodies, content types, fieldValidation, query parameters, relative hostPath), then the
 * generated chaos suite of hostile.cases.ts: every case a 4xx Status, no 500, no reset
 * connection, the server alive and the store byte-for-byte unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { call, TOKEN } from './apiserver.fixtures.js';
import { BILLION_LAUGHS, hostileCases, SEED, SEED_NAMESPACE, validDeployment, validPod } from './hostile.cases.js';
import { problem, sendCase, summarize, type HostileResult } from './hostile.runner.js';

const logged: string[] = [];
let server: ApiServer;
let store: SqliteStore;
let base: string;

beforeAll(async () => {
  store = new SqliteStore(':memory:');
  server = await startApiServer({
    store, resources: RESOURCES, port: 0, token: TOKEN,
    logger: { info: () => undefined, error: (m, e) => logged.push(`${m}: ${(e as Error | undefined)?.message ?? ''}`) },
  });
  base = server.url;
  await call(base, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SEED_NAMESPACE } } });
  expect((await call(base, 'POST', `/api/v1/namespaces/${SEED_NAMESPACE}/pods`, { body: validPod(SEED.pod) })).status).toBe(201);
  expect((await call(base, 'POST', `/apis/apps/v1/namespaces/${SEED_NAMESPACE}/deployments`, { body: validDeployment(SEED.deployment) })).status).toBe(201);
});
afterAll(async () => {
  await server.close();
  expect(logged).toEqual([]);
});

const pods = `/api/v1/namespaces/${SEED_NAMESPACE}/pods`;
const deploys = `/apis/apps/v1/namespaces/${SEED_NAMESPACE}/deployments`;
const dump = async () => JSON.stringify(await store.list('/registry/'));

type StatusBody = { kind: string; code: number; reason: string; message: string; details?: { causes?: { field: string }[] } };

describe('finding 4: integers are bounded as Kubernetes bounds them', () => {
  it.each([
    [2 ** 31, 'number 2147483648'],
    [2 ** 53, 'number 9007199254740992'],
    [1.5, 'number 1.5'],
  ])('refuses replicas %d with 400 naming DeploymentSpec.spec.replicas of type int32, and stores nothing', async (n, shown) => {
    const d = validDeployment('big');
    (d.spec as Record<string, unknown>).replicas = n;
    const r = await call<StatusBody>(base, 'POST', deploys, { body: d });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(`Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal ${shown} into Go struct field DeploymentSpec.spec.replicas of type int32`);
    expect((await call(base, 'GET', `${deploys}/big`)).status).toBe(404);
  });

  it('refuses a scale to 2^31 through the scale subresource', async () => {
    const r = await call<StatusBody>(base, 'PATCH', `${deploys}/${SEED.deployment}/scale`, { body: { spec: { replicas: 2 ** 31 } }, contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('ScaleSpec.spec.replicas of type int32');
  });

  it('refuses an int64 field past 2^63 (terminationGracePeriodSeconds)', async () => {
    const p = validPod('grace');
    (p.spec as Record<string, unknown>).terminationGracePeriodSeconds = 2 ** 64;
    const r = await call<StatusBody>(base, 'POST', pods, { body: p });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('PodSpec.spec.terminationGracePeriodSeconds of type int64');
  });
});

describe('finding 5: wrong types are refused before anything reads them', () => {
  it.each([
    ['metadata.name ["a"]', (p: Record<string, any>) => { p.metadata.name = ['a']; }, 'cannot unmarshal array into Go struct field ObjectMeta.metadata.name of type string', 'metadata.name'],
    ['metadata.labels ["a"]', (p: Record<string, any>) => { p.metadata.labels = ['a']; }, 'cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string', 'metadata.labels'],
    ['containers[0].image 5', (p: Record<string, any>) => { p.spec.containers[0].image = 5; }, 'cannot unmarshal number into Go struct field Container.spec.containers.image of type string', 'spec.containers[0].image'],
    ['metadata "str"', (p: Record<string, any>) => { p.metadata = 'str'; }, 'cannot unmarshal string into Go struct field Pod.metadata of type v1.ObjectMeta', 'metadata'],
    ['a label value 5', (p: Record<string, any>) => { p.metadata.labels = { a: 5 }; }, 'cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string', 'metadata.labels.a'],
    ['env as an object', (p: Record<string, any>) => { p.spec.containers[0].env = { A: 'b' }; }, 'cannot unmarshal object into Go struct field Container.spec.containers.env of type []v1.EnvVar', 'spec.containers[0].env'],
  ])('%s → 400 naming the field, nothing stored', async (_name, mutate, message, field) => {
    const p = validPod('typed');
    mutate(p as Record<string, any>);
    const r = await call<StatusBody>(base, 'POST', pods, { body: p });
    expect(r.status).toBe(400);
    expect(r.body.reason).toBe('BadRequest');
    expect(r.body.message).toBe(`Pod in version "v1" cannot be handled as a Pod: json: ${message}`);
    expect(r.body.details?.causes?.map((c) => c.field)).toEqual([field]);
    expect((await call(base, 'GET', `${pods}/typed`)).status).toBe(404);
  });

  it('answers 10,000-deep JSON with 400 exceeded max depth, not a stack overflow', async () => {
    const r = await call<StatusBody>(base, 'POST', pods, { body: '['.repeat(10_000) + ']'.repeat(10_000) });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('exceeded max depth');
  });

  it('answers a 10 MB body with a 413 Status (the connection is not reset)', async () => {
    const p = validPod('huge');
    (p.metadata as Record<string, unknown>).annotations = { big: 'x'.repeat(10 * 1024 * 1024) };
    const r = await call<StatusBody>(base, 'POST', pods, { body: p });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ kind: 'Status', code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
  });

  it('answers text/plain with 415 listing the supported media types', async () => {
    const r = await call<StatusBody>(base, 'POST', pods, { body: JSON.stringify(validPod('plain')), contentType: 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
    expect(r.body.message).toContain('accepted media types include: application/json, application/yaml');
  });

  it('reads application/yaml bodies, and refuses a billion-laughs one (unbounded, it takes minutes: the 10 s timeout catches that)', async () => {
    const ok = await call(base, 'POST', pods, { body: 'apiVersion: v1\nkind: Pod\nmetadata: {name: from-yaml}\nspec:\n  containers: [{name: c, image: nginx}]\n', contentType: 'application/yaml' });
    expect(ok.status).toBe(201);
    await call(base, 'DELETE', `${pods}/from-yaml`);
    const bomb = await call<StatusBody>(base, 'POST', pods, { body: BILLION_LAUGHS.replace('ConfigMap', 'Pod'), contentType: 'application/yaml' });
    expect(bomb.status).toBe(400);
    expect(bomb.body.message).toContain('yaml: document contains excessive aliasing');
  }, 10_000);

  describe('fieldValidation', () => {
    const withFoo = () => {
      const p = validPod('fv');
      (p.spec as Record<string, unknown>).foo = 1;
      return p;
    };
    it('Strict refuses an unknown field with 400 strict decoding error', async () => {
      const r = await call<StatusBody>(base, 'POST', `${pods}?fieldValidation=Strict`, { body: withFoo() });
      expect(r.status).toBe(400);
      expect(r.body.message).toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"');
    });
    it.each([['strategic-merge-patch+json'], ['merge-patch+json']])('Strict refuses an unknown field in a %s patch, worded as Kubernetes\' patch handler', async (type) => {
      const created = await call(base, 'POST', pods, { body: validPod('fvp') });
      expect(created.status).toBe(201);
      const r = await call<StatusBody>(base, 'PATCH', `${pods}/fvp?fieldValidation=Strict`, { body: { spec: { foo: 1 } }, contentType: `application/${type}` });
      expect(r.status).toBe(400);
      expect(r.body.message).toBe('strict decoding error: unknown field "spec.foo"');
      await call(base, 'DELETE', `${pods}/fvp`);
    });
    it('Strict refuses a duplicate field', async () => {
      const text = JSON.stringify(validDeployment('dup')).replace('"replicas":2', '"replicas":2,"replicas":3');
      const r = await call<StatusBody>(base, 'POST', `${deploys}?fieldValidation=Strict`, { body: text });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain('strict decoding error: duplicate field "spec.replicas"');
    });
    it('Warn (the default) creates the object without the field and says so in a Warning header', async () => {
      const r = await call<{ spec: Record<string, unknown> }>(base, 'POST', pods, { body: withFoo() });
      expect(r.status).toBe(201);
      expect(r.headers.get('warning')).toBe('299 - "unknown field \\"spec.foo\\""');
      expect(r.body.spec.foo).toBeUndefined();
      await call(base, 'DELETE', `${pods}/fv`);
    });
    it('Ignore creates it without the field and without a warning', async () => {
      const r = await call<{ spec: Record<string, unknown> }>(base, 'POST', `${pods}?fieldValidation=Ignore`, { body: withFoo() });
      expect(r.status).toBe(201);
      expect(r.headers.get('warning')).toBeNull();
      expect(r.body.spec.foo).toBeUndefined();
      await call(base, 'DELETE', `${pods}/fv`);
    });
    it('Strict also applies to patches', async () => {
      const r = await call<StatusBody>(base, 'PATCH', `${deploys}/${SEED.deployment}?fieldValidation=Strict`, { body: { spec: { foo: 1 } }, contentType: 'application/merge-patch+json' });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain('unknown field "spec.foo"');
    });
  });

  it.each([
    [`${pods}?resourceVersion=abc`, 'resourceVersion: Invalid value: "abc"'],
    [`${pods}?limit=-1`, 'limit: Invalid value: -1: must be greater than or equal to 0'],
    [`${pods}?watch=true&timeoutSeconds=x`, 'timeoutSeconds: Invalid value: "x": must be an integer'],
    [`${pods}?watch=maybe`, 'watch: Invalid value: "maybe"'],
  ])('GET %s → 400 %s', async (path, message) => {
    const r = await call<StatusBody>(base, 'GET', path);
    expect(r.status).toBe(400);
    expect(r.body.message).toContain(message);
  });

  it('DELETE ?gracePeriodSeconds=abc → 400 and the pod stays', async () => {
    const r = await call<StatusBody>(base, 'DELETE', `${pods}/${SEED.pod}?gracePeriodSeconds=abc`);
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('gracePeriodSeconds: Invalid value: "abc": must be an integer');
    expect((await call(base, 'GET', `${pods}/${SEED.pod}`)).status).toBe(200);
  });

  it('refuses a relative hostPath with 422', async () => {
    const p = validPod('hp');
    (p.spec as Record<string, unknown>).volumes = [{ name: 'data', hostPath: { path: 'x' } }];
    const r = await call<StatusBody>(base, 'POST', pods, { body: p });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Pod "hp" is invalid: spec.volumes[0].hostPath.path: Invalid value: "x": must be an absolute path');
  });
});

describe('hostile-input chaos suite (in-process)', () => {
  it('answers every generated hostile request with a 4xx Status, stays alive and writes nothing', async () => {
    const cases = hostileCases();
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const before = await dump();
    const results: HostileResult[] = [];
    const started = Date.now();
    // Four at a time: concurrency is part of the abuse, but the machine is shared.
    for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map((c) => sendCase(base, TOKEN, c)))));
    const elapsed = Date.now() - started;
    const after = await dump();
    const health = await call(base, 'GET', '/readyz', { token: null });
    console.log([`hostile suite (in-process): ${cases.length} requests in ${(elapsed / 1000).toFixed(1)} s, slowest ${Math.max(...results.map((r) => r.ms))} ms`,
      ...summarize(results), `readyz after: ${health.status}; store unchanged: ${before === after}`].join('\n'));
    const bad = results.map((r) => [r.c.family, r.c.name.slice(0, 120), problem(r)]).filter((x) => x[2]);
    expect(bad).toEqual([]);
    expect(health.status).toBe(200);
    expect(after).toBe(before);
  }, 120_000);
});

describe('limit and continue are honoured, not ignored', () => {
  it('pages a list of 7 pods by 3, with continue tokens and remaining counts, in the Table form too', async () => {
    for (let i = 0; i < 7; i++) await call(base, 'POST', '/api/v1/namespaces/default/pods', { body: validPod(`page-${i}`) });
    const names: string[] = [];
    let token = '';
    const remaining: (number | undefined)[] = [];
    for (let page = 0; page < 5; page++) {
      const r = await call<{ metadata: { continue?: string; remainingItemCount?: number }; items: { metadata: { name: string } }[] }>(
        base, 'GET', `/api/v1/namespaces/default/pods?limit=3${token ? `&continue=${token}` : ''}`);
      expect(r.status).toBe(200);
      names.push(...r.body.items.map((p) => p.metadata.name));
      remaining.push(r.body.metadata.remainingItemCount);
      token = r.body.metadata.continue ?? '';
      if (!token) break;
    }
    expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `page-${i}`));
    expect(remaining).toEqual([4, 1, undefined]);
    const table = await call<{ kind: string; metadata: { continue?: string }; rows: unknown[] }>(base, 'GET', '/api/v1/namespaces/default/pods?limit=5',
      { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(table.body.kind).toBe('Table');
    expect(table.body.rows).toHaveLength(5);
    expect(table.body.metadata.continue).toBeTruthy();
    const bad = await call<StatusBody>(base, 'GET', '/api/v1/namespaces/default/pods?limit=3&continue=garbage');
    expect(bad.status).toBe(400);
    for (let i = 0; i < 7; i++) await call(base, 'DELETE', `/api/v1/namespaces/default/pods/page-${i}`);
  });
});
