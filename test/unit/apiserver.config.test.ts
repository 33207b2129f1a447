/**
 * ConfigMaps and Secrets through the API server over HTTP with the real registry: stringData
 * merged on write, 400 for bad base64, 422 for immutable updates and bad keys, the kubectl
 * tables, `Warning` headers for unhonoured pod fields (and the client handing them on), and the
 * CLI's `create configmap|secret` builders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { ConfigMap, Pod, Secret } from '../../src/api/types.js';
import { ApiError } from '../../src/api/errors.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, CONFIGMAPS, PODS, SECRETS, parseWarnings } from '../../src/client/client.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  buildConfigMap, buildDockerRegistrySecret, buildGenericSecret, parseEnvFile, type FileReader,
} from '../../src/cli/commands/create.js';
import { TOKEN } from './apiserver.fixtures.js';
import { describeConfigMap, describeSecret } from '../../src/cli/commands/describers.js';

let server: ApiServer;
let client: ApiClient;
const warnings: string[] = [];
const b64 = (s: string): string => Buffer.from(s).toString('base64');

beforeAll(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN });
  client = new ApiClient({ server: server.url, token: TOKEN, onWarning: (w) => warnings.push(w) });
});
afterAll(async () => {
  await server.close();
});

const cms = { ...CONFIGMAPS, namespace: 'default' };
const secs = { ...SECRETS, namespace: 'default' };
const failure = async (p: Promise<unknown>): Promise<ApiError> => {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected the request to fail');
};

describe('Secrets and ConfigMaps over HTTP', () => {
  it('stores stringData merged into data, defaults the type, and never returns stringData', async () => {
    const s = await client.create<Secret>(secs, { metadata: { name: 'creds' }, data: { user: b64('admin') }, stringData: { password: 'pw' } });
    expect(s).toMatchObject({ type: 'Opaque', data: { user: b64('admin'), password: b64('pw') } });
    expect(s.stringData).toBeUndefined();
    expect((await client.get<Secret>(secs, 'creds')).stringData).toBeUndefined();
  });
  it('answers invalid base64 with 400', async () => {
    const e = await failure(client.create<Secret>(secs, { metadata: { name: 'bad' }, data: { a: '@@@@' } }));
    expect([e.code, e.message]).toEqual([400, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0']);
  });
  it('answers a TLS secret without its keys with 422 naming both', async () => {
    const e = await failure(client.create<Secret>(secs, { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c' } }));
    expect([e.code, e.message]).toEqual([422, 'Secret "tls" is invalid: data[tls.key]: Required value']);
  });
  it('refuses data changes of an immutable ConfigMap but lets it be deleted', async () => {
    const cm = await client.create<ConfigMap>(cms, { metadata: { name: 'frozen' }, data: { a: '1' }, immutable: true });
    const e = await failure(client.update<ConfigMap>(cms, { ...cm, data: { a: '2' } }));
    expect([e.code, e.message]).toEqual([422, 'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set']);
    await client.delete(cms, 'frozen');
  });
  it('refuses a ConfigMap key that is not a file name', async () => {
    const e = await failure(client.create<ConfigMap>(cms, { metadata: { name: 'k' }, data: { '..': 'x' } }));
    expect(e.message).toBe('ConfigMap "k" is invalid: data[..]: Invalid value: "..": must not be \'..\'');
  });
  it('prints kubectl\'s columns server-side: configmaps NAME DATA AGE, secrets NAME TYPE DATA AGE', async () => {
    await client.create<ConfigMap>(cms, { metadata: { name: 'two' }, data: { a: '1' }, binaryData: { b: b64('2') } });
    const table = async (path: string) => (await fetch(`${server.url}${path}`, {
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    }).then((r) => r.json())) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    const t = await table('/api/v1/namespaces/default/configmaps/two');
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(t.rows[0].cells.slice(0, 2)).toEqual(['two', 2]);
    const s = await table('/api/v1/namespaces/default/secrets/creds');
    expect(s.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Type', 'Data', 'Age']);
    expect(s.rows[0].cells.slice(0, 3)).toEqual(['creds', 'Opaque', 2]);
  });
});

describe('Warning headers', () => {
  it('sends one `299 - "..."` per unhonoured pod field on create, and only new ones on update', async () => {
    warnings.length = 0;
    const pod = await client.create<Pod>({ ...PODS, namespace: 'default' }, {
      metadata: { name: 'warned' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    });
    expect(warnings).toEqual([
      "spec.hostNetwork: ignored by minikube-lite: the pod gets its own address on the pod network, not the node's network",
      'spec.containers[0].securityContext: ignored by minikube-lite: container security settings (privileged, capabilities, runAsUser, readOnlyRootFilesystem...) are not applied',
    ]);
    warnings.length = 0;
    await client.update<Pod>({ ...PODS, namespace: 'default' }, { ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } } });
    expect(warnings).toEqual([]);
  });
  it('parses several warnings joined in one header, with escaped quotes', () => {
    expect(parseWarnings('299 - "a \\"quoted\\" word", 299 - "second, with a comma"')).toEqual(['a "quoted" word', 'second, with a comma']);
    expect(parseWarnings(null)).toEqual([]);
  });
});

describe('create configmap / secret builders', () => {
  const fs: Record<string, string | Buffer> = {
    '/d/game.properties': 'lives=3\n', '/d/ui.properties': 'color=blue\n', '/d/bad name': 'x', '/d/logo.bin': Buffer.from([0xff, 0xfe, 0x00]),
    '/e/app.env': '# comment\n\nA=1\nB=two words\nC==x\n',
  };
  const reader: FileReader = {
    isDirectory: (p) => p === '/d' || p === '/d/',
    list: (d) => Object.keys(fs).filter((k) => k.startsWith(d.replace(/\/?$/, '/'))).map((k) => k.slice(d.replace(/\/?$/, '/').length)).sort(),
    read: (p) => {
      const v = fs[p];
      if (v === undefined) throw new Error(`error reading ${p}: no such file or directory`);
      return Buffer.isBuffer(v) ? v : Buffer.from(v);
    },
  };
  const none = { fromLiteral: [], fromFile: [], fromEnvFile: [] };
  it('takes literals, files (key = base name or given) and directories (valid names only; non-UTF-8 as binaryData)', () => {
    expect(buildConfigMap('game', 'default', { ...none, fromLiteral: ['a=1', 'b=x=y'], fromFile: ['/d', 'custom=/d/ui.properties'] }, reader)).toEqual({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game', namespace: 'default' },
      data: { 'game.properties': 'lives=3\n', 'ui.properties': 'color=blue\n', custom: 'color=blue\n', a: '1', b: 'x=y' },
      binaryData: { 'logo.bin': Buffer.from([0xff, 0xfe, 0x00]).toString('base64') },
    });
  });
  it('reads env files as kubectl does', () => {
    expect(parseEnvFile(String(fs['/e/app.env']), '/e/app.env')).toEqual([['A', '1'], ['B', 'two words'], ['C', '=x']]);
    expect(buildGenericSecret('s', 'default', { ...none, fromEnvFile: ['/e/app.env'] }, undefined, reader).data).toEqual({ A: b64('1'), B: b64('two words'), C: b64('=x') });
  });
  it.each([
    ['a literal without =', { ...none, fromLiteral: ['novalue'] }, 'invalid literal source novalue, expected key=value'],
    ['a duplicate key', { ...none, fromLiteral: ['a=1', 'a=2'] }, 'cannot add key "a", another key by that name already exists in Data for ConfigMap "x"'],
    ['an invalid key', { ...none, fromLiteral: ['a/b=1'] }, '"a/b" is not valid key name for a ConfigMap'],
    ['env files mixed with literals', { ...none, fromLiteral: ['a=1'], fromEnvFile: ['/e/app.env'] }, 'from-env-file cannot be combined with from-file or from-literal'],
    ['a key for a directory', { ...none, fromFile: ['k=/d'] }, 'cannot give a key name for a directory path.'],
  ])('refuses %s', (_n, src, msg) => {
    expect(() => buildConfigMap('x', 'default', src, reader)).toThrow(msg);
  });
  it('builds a docker-registry secret with kubectl\'s .dockerconfigjson', () => {
    const s = buildDockerRegistrySecret('reg', 'default', { dockerServer: 'https://index.docker.io/v1/', dockerUsername: 'u', dockerPassword: 'p', dockerEmail: 'e@x', fromFile: [] }, reader);
    expect(s.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(Buffer.from(s.data?.['.dockerconfigjson'] ?? '', 'base64').toString())).toEqual({
      auths: { 'https://index.docker.io/v1/': { username: 'u', password: 'p', email: 'e@x', auth: b64('u:p') } },
    });
    expect(() => buildDockerRegistrySecret('reg', 'default', { dockerServer: 'x', fromFile: [] }, reader))
      .toThrow('either --from-file or the combination of --docker-username, --docker-password and --docker-server is required');
  });
});

describe('describe configmap / secret, as kubectl 1.32 prints them', () => {
  it('shows a ConfigMap\'s values and binary sizes', () => {
    expect(describeConfigMap({ metadata: { name: 'kc', namespace: 'default' }, data: { b: '2', a: '1' }, binaryData: { bin: b64('xyz') } }, [], 0)).toBe(
      'Name:         kc\nNamespace:    default\nLabels:       <none>\nAnnotations:  <none>\n\nData\n====\na:\n----\n1\n\nb:\n----\n2\n\n\nBinaryData\n====\nbin: 3 bytes\n\nEvents:  <none>\n');
  });
  it('shows a Secret\'s sizes, never its values', () => {
    expect(describeSecret({ metadata: { name: 'ks', namespace: 'default' }, type: 'Opaque', data: { password: b64('hunter2') } })).toBe(
      'Name:         ks\nNamespace:    default\nLabels:       <none>\nAnnotations:  <none>\n\nType:  Opaque\n\nData\n====\npassword:  7 bytes\n');
  });
});
