/**
 * The OpenAPI documents: their shape (every served kind has a schema with its GVK and
 * Kubernetes' descriptions, every `$ref` resolves, paths follow each kind's verbs) and how the
 * API server serves them (hashes, ETag, 301/304/406, gzip, lazily).
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFINITIONS_JSON, V2_MESSAGES_JSON } from '../../src/api/openapi.data.js';
import { RESOURCES } from '../../src/api/registry.js';
import { acceptsJson, buildOpenApi, v2MediaType, type Schema } from '../../src/apiserver/openapi.js';
import { OpenApiV2Encoder, type V2Messages } from '../../src/apiserver/openapiv2pb.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TOKEN } from './apiserver.fixtures.js';

const generated = JSON.parse(DEFINITIONS_JSON) as Record<string, Schema>;
const { v2, v3 } = buildOpenApi(generated, RESOURCES);
const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);
type Gvk = { group: string; version: string; kind: string };
const schemasOf = (doc: Schema) => (doc.components as { schemas: Record<string, Schema> }).schemas;
const byGvk = (schemas: Record<string, Schema>, g: Gvk) =>
  Object.entries(schemas).find(([, s]) => (s['x-kubernetes-group-version-kind'] as Gvk[] | undefined)?.some((x) => x.group === g.group && x.version === g.version && x.kind === g.kind));

/** Every `$ref` in a document. */
function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => refs(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (k === '$ref' && typeof x === 'string' ? out.push(x) : refs(x, out));
  return out;
}

describe('the v3 documents', () => {
  it.each(RESOURCES.map((r) => [`${gvPath(r.group, r.version)} ${r.kind}`, r] as const))('describe %s with a schema that names its GVK', (_, r) => {
    const doc = v3.get(gvPath(r.group, r.version));
    expect(doc).toBeDefined();
    const found = byGvk(schemasOf(doc!), r);
    expect(found, `no schema with GVK ${r.kind}`).toBeDefined();
    expect(String(found![1].description)).not.toBe('');
    expect((found![1].properties as Record<string, Schema>).metadata).toBeDefined();
  });

  it('name the schemas as Kubernetes does, with its descriptions', () => {
    const core = schemasOf(v3.get('api/v1')!);
    expect(byGvk(core, { group: '', version: 'v1', kind: 'Pod' })![0]).toBe('io.k8s.api.core.v1.Pod');
    expect(core['io.k8s.api.core.v1.Pod']!.description).toBe('Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.');
    const apps = schemasOf(v3.get('apis/apps/v1')!);
    const strategy = (apps['io.k8s.api.apps.v1.DeploymentSpec']!.properties as Record<string, Schema>).strategy!;
    expect(strategy).toEqual({ description: 'The deployment strategy to use to replace existing pods with new ones.', allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }], 'x-kubernetes-patch-strategy': 'retainKeys' });
    expect(apps['io.k8s.api.apps.v1.DeploymentSpec']!.required).toEqual(['selector', 'template']);
  });

  it('carry the patch strategies kubectl apply computes its three-way patch with', () => {
    const props = (name: string) => schemasOf(v3.get('api/v1')!)[name]!.properties as Record<string, Schema>;
    expect(props('io.k8s.api.core.v1.PodSpec').containers).toMatchObject({ 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' });
    expect(props('io.k8s.api.core.v1.PodSpec').volumes).toMatchObject({ 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name' });
    expect(props('io.k8s.api.core.v1.Container').ports).toMatchObject({ 'x-kubernetes-patch-merge-key': 'containerPort' });
    expect(props('io.k8s.api.core.v1.ServiceSpec').ports).toMatchObject({ 'x-kubernetes-patch-merge-key': 'port' });
    expect(props('io.k8s.api.core.v1.PodStatus').conditions).toMatchObject({ 'x-kubernetes-patch-merge-key': 'type' });
    expect(props('io.k8s.api.core.v1.ServiceSpec').selector).not.toHaveProperty('x-kubernetes-patch-strategy');
  });

  it('carry the list types server-side apply merges by, from the same table', () => {
    const core = (name: string) => schemasOf(v3.get('api/v1')!)[name]!;
    const props = (name: string) => core(name).properties as Record<string, Schema>;
    expect(props('io.k8s.api.core.v1.PodSpec').containers).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    expect(props('io.k8s.api.core.v1.Container').ports).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] });
    expect(props('io.k8s.api.core.v1.ServiceSpec').ports).toMatchObject({ 'x-kubernetes-list-map-keys': ['port', 'protocol'] });
    expect(props('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').finalizers).toMatchObject({ 'x-kubernetes-list-type': 'set' });
    expect(props('io.k8s.api.core.v1.PodSpec').tolerations).not.toHaveProperty('x-kubernetes-list-type');
    expect(core('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')).toMatchObject({ 'x-kubernetes-map-type': 'atomic' });
    const batch = schemasOf(v3.get('apis/batch/v1')!)['io.k8s.api.batch.v1.JobStatus']!.properties as Record<string, Schema>;
    expect(batch.conditions).toMatchObject({ 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'type' });
  });

  it.each([...v3.keys()])('%s: every $ref resolves within the document', (gv) => {
    const doc = v3.get(gv)!;
    const schemas = schemasOf(doc);
    for (const ref of refs(doc)) expect(schemas[ref.replace('#/components/schemas/', '')], ref).toBeDefined();
  });

  it('give each kind the operations of its verbs, PATCH with fieldValidation and (built-in kinds) strategic merge patch', () => {
    const paths = v3.get('apis/apps/v1')!.paths as Record<string, Record<string, Schema>>;
    const item = paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!;
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(item.patch!['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect((item.patch!.parameters as { name: string }[]).map((p) => p.name)).toContain('fieldValidation');
    expect(Object.keys((item.patch!.requestBody as { content: object }).content)).toContain('application/strategic-merge-patch+json');
    expect(paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']!.put!['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(paths['/apis/apps/v1/deployments']!.get!.operationId).toBe('listAppsV1DeploymentForAllNamespaces');
    expect(item.patch!.tags).toEqual(['apps_v1']);
    expect((v3.get('apis/rbac.authorization.k8s.io/v1')!.paths as Record<string, Record<string, Schema>>)['/apis/rbac.authorization.k8s.io/v1/clusterroles']!.get!.tags).toEqual(['rbacAuthorization_v1']);

    const reviews = v3.get('apis/authorization.k8s.io/v1')!.paths as Record<string, Record<string, Schema>>;
    expect(Object.keys(reviews['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']!)).toEqual(['post']);
    expect(reviews['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/{name}']).toBeUndefined();

    const trace = v3.get('apis/trace.minikube-lite.io/v1alpha1')!;
    const tpaths = trace.paths as Record<string, Record<string, Schema>>;
    const patch = Object.values(tpaths).find((p) => p.patch)!.patch!;
    expect(Object.keys((patch.requestBody as { content: object }).content)).not.toContain('application/strategic-merge-patch+json');
  });
});

describe('the v2 document', () => {
  it('is swagger 2.0 with every served kind and resolvable $refs', () => {
    expect(v2.swagger).toBe('2.0');
    const defs = v2.definitions as Record<string, Schema>;
    for (const r of RESOURCES) expect(byGvk(defs, r), r.kind).toBeDefined();
    for (const ref of refs(v2)) expect(defs[ref.replace('#/definitions/', '')], ref).toBeDefined();
    expect((defs['io.k8s.api.core.v1.PodSpec']!.properties as Record<string, Schema>).nodeSelector).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
  });
});

/** The top-level fields of a protobuf message: number → raw values (varints as numbers, others as Buffers). */
function pbFields(buf: Buffer): [number, Buffer | number][] {
  const out: [number, Buffer | number][] = [];
  let i = 0;
  const varint = (): number => { let v = 0; let m = 1; for (;;) { const b = buf[i++]!; v += (b & 0x7f) * m; if (!(b & 0x80)) return v; m *= 128; } };
  while (i < buf.length) {
    const key = varint();
    if ((key & 7) === 0) out.push([key >> 3, varint()]);
    else if ((key & 7) === 2) { const n = varint(); out.push([key >> 3, buf.subarray(i, i + n)]); i += n; }
    else throw new Error(`wire type ${key & 7}`);
  }
  return out;
}

describe('the v2 document as protobuf (gnostic openapi.v2.Document)', () => {
  const encoder = new OpenApiV2Encoder(JSON.parse(V2_MESSAGES_JSON) as V2Messages);
  const pb = encoder.document(v2);

  it('places every JSON key in a message field', () => {
    expect(encoder.dropped).toEqual([]);
  });

  it('carries the definitions as named schemas with descriptions and the GVK as a YAML vendor extension', () => {
    const top = pbFields(pb);
    expect(String(top.find(([n]) => n === 1)![1])).toBe('2.0');
    const definitions = pbFields(top.find(([n]) => n === 9)![1] as Buffer).map(([, b]) => pbFields(b as Buffer));
    const pod = definitions.find((d) => String(d[0]![1]) === 'io.k8s.api.core.v1.Pod')!;
    const schema = pbFields(pod[1]![1] as Buffer);
    expect(String(schema.find(([n]) => n === 4)![1])).toMatch(/^Pod is a collection of containers/);
    const ext = pbFields(schema.find(([n]) => n === 31)![1] as Buffer);
    expect(String(ext[0]![1])).toBe('x-kubernetes-group-version-kind');
    const any = pbFields(ext[1]![1] as Buffer); // openapi.v2.Any: the value as YAML (field 2)
    expect(any[0]![0]).toBe(2);
    expect(JSON.parse(String(any[0]![1]))).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
  });
});

describe('v2MediaType', () => {
  it.each([
    [undefined, 'json'], ['application/json', 'json'], ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'protobuf'],
    ['application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json', 'protobuf'], ['application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'json'],
    ['application/com.github.proto-openapi.spec.v3@v1.0+protobuf', undefined],
  ])('Accept %s → %s', (accept, media) => expect(v2MediaType(accept)).toBe(media));
});

describe('acceptsJson', () => {
  it.each([
    [undefined, true], ['application/json', true], ['*/*', true], ['application/json;q=0.9, */*;q=0.1', true],
    ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', false], ['application/json;q=0', false], ['text/html', false],
  ])('Accept %s → %s', (accept, ok) => expect(acceptsJson(accept)).toBe(ok));
});

describe('serving', () => {
  let server: ApiServer;
  let firstMs = 0;
  beforeAll(async () => {
    server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, logger: { info: () => undefined, error: () => undefined } });
    const t = performance.now();
    await get('/openapi/v3');
    firstMs = performance.now() - t;
    console.log(`openapi: first request (load + build + serialize every document) ${firstMs.toFixed(0)} ms`);
  });
  afterAll(async () => server.close());

  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.request(server.url + path, { method, headers: { Authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const json = (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown>;

  it('indexes each group version with the hash of its document, which is immutable at that hash', async () => {
    const index = json((await get('/openapi/v3')).body) as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/apps/v1']!.serverRelativeURL;
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('public, immutable');
    expect(new Date(String(r.headers.expires)).getTime()).toBeGreaterThan(Date.now() + 300 * 24 * 3600e3);
    expect(r.headers.etag).toBe(`"${url.split('hash=')[1]}"`);
    expect(json(r.body).openapi).toBe('3.0.0');
    const plain = await get('/openapi/v3/apis/apps/v1');
    expect(plain.headers['cache-control']).toBe('no-cache, private');
  });

  it('redirects a stale hash to the current one and answers If-None-Match with 304', async () => {
    const stale = await get('/openapi/v3/api/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.location).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    const etag = String((await get('/openapi/v2')).headers.etag);
    expect((await get('/openapi/v2', { 'If-None-Match': etag })).status).toBe(304);
  });

  it('gzips large documents for clients that accept it', async () => {
    const r = await get('/openapi/v2', { 'Accept-Encoding': 'gzip' });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(json(gunzipSync(r.body)).swagger).toBe('2.0');
    expect(r.body.length).toBeLessThan(300_000);
  });

  it('answers kubectl\'s protobuf Accept for v2 with protobuf, in the content type Go can parse', async () => {
    const r = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'Accept-Encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect(String(pbFields(gunzipSync(r.body))[0]![1])).toBe('2.0');
  });

  it.each([
    ['a protobuf-only Accept for v3', '/openapi/v3/api/v1', { Accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' }, 'GET', 406],
    ['an unknown group version', '/openapi/v3/apis/nope/v1', {}, 'GET', 404],
    ['a POST', '/openapi/v3', {}, 'POST', 405],
  ])('answers %s with a Status', async (_, path, headers, method, code) => {
    const r = await get(path, headers, method);
    expect(r.status).toBe(code);
    expect(json(r.body)).toMatchObject({ kind: 'Status', code });
  });
});
