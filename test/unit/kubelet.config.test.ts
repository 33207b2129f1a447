/**
 * The kubelet's configuration plumbing: the AtomicWriter layout and its updates, the payloads
 * of configMap/secret/downwardAPI/projected volumes, env resolution from ConfigMaps and Secrets
 * (messages, optional references, envFrom prefixes and skipped keys), and token refresh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Pod, Secret, Volume } from '../../src/api/types.js';
import { containerEnv } from '../../src/api/expansion.js';
import { payloadPathError, writeAtomic, type FileProjection } from '../../src/kubelet/atomicwriter.js';
import { ConfigError, envResolvers, referencedObjects, type ConfigReader } from '../../src/kubelet/configsource.js';
import { TokenManager, tokenNeedsRefresh } from '../../src/kubelet/tokens.js';
import { volumePayload, type PayloadSources } from '../../src/kubelet/volumepayload.js';
import type { ApiClient } from '../../src/client/client.js';
import { expandSubPath } from '../../src/kubelet/volumes.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const files = (m: Record<string, string | [string, number]>): Map<string, FileProjection> =>
  new Map(Object.entries(m).map(([k, v]) => [k, typeof v === 'string' ? { data: Buffer.from(v), mode: 0o644 } : { data: Buffer.from(v[0]), mode: v[1] }]));

describe('writeAtomic', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'mkl-atomic-'));
    dirs.push(d);
    return join(d, 'vol');
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const versions = (dir: string): string[] => readdirSync(dir).filter((n) => /^\.\.\d{4}_/.test(n));

  it('lays files out as the kubelet does: a timestamped dir, ..data pointing at it, user-visible links', () => {
    const dir = fresh();
    expect(writeAtomic(dir, files({ a: 'A', 'sub/b': ['B', 0o400] }), new Date('2026-12-06T09:30:05Z'))).toBe(true);
    const [v] = versions(dir);
    expect(v).toMatch(/^\.\.2026_12_06_09_30_05\.[0-9a-f]{10}$/);
    expect(readlinkSync(join(dir, '..data'))).toBe(v);
    expect(readlinkSync(join(dir, 'a'))).toBe('..data/a');
    expect(readlinkSync(join(dir, 'sub'))).toBe('..data/sub');
    expect(readFileSync(join(dir, 'sub/b'), 'utf8')).toBe('B');
    expect(statSync(join(dir, 'sub/b')).mode & 0o777).toBe(0o400);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o644);
  });

  it('does nothing when the payload is unchanged', () => {
    const dir = fresh();
    writeAtomic(dir, files({ a: 'A' }));
    const before = versions(dir);
    expect(writeAtomic(dir, files({ a: 'A' }))).toBe(false);
    expect(versions(dir)).toEqual(before);
  });

  it('updates by swapping ..data to a new version, dropping removed keys and the old version', () => {
    const dir = fresh();
    writeAtomic(dir, files({ a: 'A', gone: 'G' }));
    const [old] = versions(dir);
    expect(writeAtomic(dir, files({ a: 'A2', added: 'N' }))).toBe(true);
    const [now] = versions(dir);
    expect(now).not.toBe(old);
    expect(versions(dir)).toHaveLength(1);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('A2');
    expect(readFileSync(join(dir, 'added'), 'utf8')).toBe('N');
    expect(existsSync(join(dir, 'gone'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['..data', now, 'a', 'added'].sort());
    expect(lstatSync(join(dir, '..data')).isSymbolicLink()).toBe(true);
  });

  it('rewrites when only a mode changed', () => {
    const dir = fresh();
    writeAtomic(dir, files({ a: ['A', 0o644] }));
    expect(writeAtomic(dir, files({ a: ['A', 0o400] }))).toBe(true);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o400);
  });

  it.each([
    ['/abs', 'invalid path: must be relative path: /abs'],
    ['a/../b', "invalid path: must not contain '..': a/../b"],
    ['..data', "invalid path: must not start with '..': ..data"],
    ['', 'invalid path: must not be empty'],
  ])('refuses the payload path %j before writing anything', (p, msg) => {
    expect(payloadPathError(p)).toBe(msg);
    const dir = fresh();
    expect(() => writeAtomic(dir, files({ [p]: 'x' }))).toThrow(msg);
    expect(existsSync(dir)).toBe(false);
  });
});

const pod: Pod = {
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { app: 'web', tier: 'front' }, annotations: { build: 'two' } },
  spec: { serviceAccountName: 'robot', nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } } }] },
  status: { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], hostIP: '10.244.1.1' },
};
const configMaps: Record<string, ConfigMap> = {
  cfg: { metadata: { name: 'cfg' }, data: { 'app.conf': 'x=1', mode: 'fast' }, binaryData: { 'logo.png': b64('\x89PNG') } },
  'kube-root-ca.crt': { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CERT' } },
  digits: { metadata: { name: 'digits' }, data: { '1st': 'a', '2nd': 'b', ok: 'c' } },
};
const secrets: Record<string, Secret> = { db: { metadata: { name: 'db' }, data: { password: b64('s3cr3t'), user: b64('admin') } } };
const sources: PayloadSources = {
  configMap: (n) => configMaps[n],
  secret: (n) => secrets[n],
  requestToken: async (s) => `token-for-${s.audience ?? 'api'}-${s.expirationSeconds}`,
  nodeAllocatable: { cpu: '4', memory: '8Gi' },
};
const text = (m: Map<string, FileProjection>): Record<string, string> => Object.fromEntries([...m].map(([k, v]) => [k, `${v.data.toString()} ${v.mode.toString(8)}`]));

describe('volumePayload', () => {
  const cases: [string, Volume, Record<string, string> | string][] = [
    ['every key of a ConfigMap, data and binaryData', { name: 'v', configMap: { name: 'cfg', defaultMode: 0o644 } },
      { 'app.conf': 'x=1 644', mode: 'fast 644', 'logo.png': '\x89PNG 644' }],
    ['chosen ConfigMap keys at chosen paths with their own mode', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'etc/app.conf', mode: 0o400 }] } },
      { 'etc/app.conf': 'x=1 400' }],
    ['a missing ConfigMap', { name: 'v', configMap: { name: 'nope' } }, 'configmap "nope" not found'],
    ['a missing optional ConfigMap (empty)', { name: 'v', configMap: { name: 'nope', optional: true } }, {}],
    ['a missing key', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'x', path: 'x' }] } }, 'configmap references non-existent config key: x'],
    ['a missing key of an optional ConfigMap (skipped)', { name: 'v', configMap: { name: 'cfg', optional: true, items: [{ key: 'x', path: 'x' }] } }, {}],
    ['a Secret, decoded, 0400', { name: 'v', secret: { secretName: 'db', defaultMode: 0o400 } }, { password: 's3cr3t 400', user: 'admin 400' }],
    ['a missing Secret', { name: 'v', secret: { secretName: 'nope' } }, 'secret "nope" not found'],
    ['a missing Secret key', { name: 'v', secret: { secretName: 'db', items: [{ key: 'k', path: 'k' }] } }, 'secret references non-existent secret key: k'],
    ['downward API fields and resources', { name: 'v', downwardAPI: { items: [
      { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
      { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
      { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
      { path: 'cpu-req', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' }, mode: 0o400 },
    ] } }, { name: 'web 644', labels: 'app="web"\ntier="front" 644', tier: 'front 644', mem: '64 644', cpu: '4 644', 'cpu-req': '250 400' }],
    ['the projected kube-api-access layout', { name: 'kube-api-access', projected: { defaultMode: 0o644, sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ] } }, { token: 'token-for-api-3607 644', 'ca.crt': 'CERT 644', namespace: 'prod 644' }],
    ['a projected volume with two missing sources', { name: 'v', projected: { sources: [{ configMap: { name: 'a' } }, { secret: { name: 'b' } }] } },
      '[configmap "a" not found, secret "b" not found]'],
  ];
  it.each(cases)('%s', async (_name, v, want) => {
    if (typeof want === 'string') await expect(volumePayload(pod, v, sources)).rejects.toThrow(want);
    else expect(text(await volumePayload(pod, v, sources))).toEqual(want);
  });
});

describe('env from ConfigMaps and Secrets', () => {
  const reader: ConfigReader = { configMap: (ns, n) => (ns === 'prod' ? configMaps[n] : undefined), secret: (ns, n) => (ns === 'prod' ? secrets[n] : undefined) };
  const envOf = (c: Pod['spec'] extends infer S ? NonNullable<S>['containers'][number] : never) => {
    const skipped: string[] = [];
    const env = containerEnv(c, { pod, ...envResolvers(pod, reader, (kind, name, keys) => skipped.push(`${kind} ${name}: ${keys.join(',')}`)) });
    return { env: Object.fromEntries(env.map((e) => [e.name, e.value])), skipped };
  };
  it('resolves configMapKeyRef, secretKeyRef (decoded), fieldRef and resourceFieldRef', () => {
    const { env } = envOf({ name: 'c', image: 'x', resources: { limits: { memory: '64Mi' } }, env: [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } },
      { name: 'MSG', value: 'mode=$(MODE)' },
    ] });
    expect(env).toEqual({ MODE: 'fast', PW: 's3cr3t', IP: '10.244.1.5', SA: 'robot', MEM: '64', MSG: 'mode=fast' });
  });
  it.each([
    ['a missing ConfigMap', { configMapKeyRef: { name: 'x', key: 'k' } }, 'configmap "x" not found'],
    ['a missing ConfigMap key', { configMapKeyRef: { name: 'cfg', key: 'k' } }, "couldn't find key k in ConfigMap prod/cfg"],
    ['a missing Secret', { secretKeyRef: { name: 'x', key: 'k' } }, 'secret "x" not found'],
    ['a missing Secret key', { secretKeyRef: { name: 'db', key: 'k' } }, "couldn't find key k in Secret prod/db"],
  ])('fails with the kubelet\'s message for %s', (_n, valueFrom, msg) => {
    expect(() => envOf({ name: 'c', image: 'x', env: [{ name: 'V', valueFrom }] })).toThrow(new ConfigError(msg));
  });
  it('adds envFrom keys with their prefix, lets env override them, and skips (and reports) invalid names', () => {
    const { env, skipped } = envOf({ name: 'c', image: 'x',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'db' } }, { secretRef: { name: 'none', optional: true } }],
      env: [{ name: 'user', value: 'override' }] });
    expect(env).toEqual({ CFG_mode: 'fast', 'CFG_app.conf': 'x=1', password: 's3cr3t', user: 'override' });
    expect(skipped).toEqual([]);
    const digits = envOf({ name: 'c', image: 'x', envFrom: [{ configMapRef: { name: 'digits' } }] });
    expect(digits.env).toEqual({ ok: 'c' });
    expect(digits.skipped).toEqual(['configMap digits: 1st,2nd']);
  });
  it('finds every ConfigMap and Secret a pod refers to', () => {
    const p: Pod = { metadata: {}, spec: {
      initContainers: [{ name: 'i', image: 'x', envFrom: [{ secretRef: { name: 's1' } }] }],
      containers: [{ name: 'c', image: 'x', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'c1', key: 'k' } } }] }],
      volumes: [{ name: 'a', configMap: { name: 'c2' } }, { name: 'b', secret: { secretName: 's2' } },
        { name: 'p', projected: { sources: [{ configMap: { name: 'c3' } }, { secret: { name: 's3' } }] } }],
    } };
    const r = referencedObjects(p);
    expect([...r.configMaps].sort()).toEqual(['c1', 'c2', 'c3']);
    expect([...r.secrets].sort()).toEqual(['s1', 's2', 's3']);
  });
});

describe('service-account tokens for projected volumes', () => {
  it.each([
    [0, 1000, 500, false],
    [0, 1000, 801, true],
    [0, 1000, 1000, true],
    [0, 10 * 86_400_000, 86_400_001, true],
  ])('issued %i, expiring %i: refresh at %i is %s', (issued, expires, now, want) => {
    expect(tokenNeedsRefresh(issued, expires, now)).toBe(want);
  });

  it('sends a TokenRequest bound to the pod, caches the token and asks again after 80% of its life', async () => {
    const calls: { path: string; name: string; body: unknown }[] = [];
    let n = 0;
    const client = {
      createSubresource: async (ref: { namespace?: string; resource: string }, name: string, sub: string, body: unknown) => {
        calls.push({ path: `${ref.namespace}/${ref.resource}/${sub}`, name, body });
        n++;
        return { status: { token: `t${n}`, expirationTimestamp: new Date(now + 3600_000).toISOString() } };
      },
    } as unknown as ApiClient;
    let now = Date.parse('2026-12-06T09:00:00Z');
    const tm = new TokenManager(client, () => now);
    const src = { path: 'token', expirationSeconds: 3600, audience: 'vault' };
    expect(await tm.get(pod, src)).toBe('t1');
    expect(await tm.get(pod, src)).toBe('t1');
    expect(calls).toEqual([{ path: 'prod/serviceaccounts/token', name: 'robot', body: {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { audiences: ['vault'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'u-1' } },
    } }]);
    now += 0.81 * 3600_000;
    expect(await tm.get(pod, src)).toBe('t2');
  });

  it('says why a token could not be fetched', async () => {
    const client = { createSubresource: async () => { throw new Error('serviceaccounts "robot" not found'); } } as unknown as ApiClient;
    await expect(new TokenManager(client, () => 0).get(pod, { path: 't' })).rejects.toThrow('failed to fetch token: serviceaccounts "robot" not found');
  });
});

describe('subPathExpr', () => {
  const env = [{ name: 'POD_NAME', value: 'web-1' }, { name: 'EMPTY', value: '' }, { name: 'UP', value: '..' }];
  it.each([
    ['$(POD_NAME)', 'web-1'],
    ['logs/$(POD_NAME)/app', 'logs/web-1/app'],
    ['$$(POD_NAME)', '$(POD_NAME)'],
  ])('expands %j to %j', (expr, want) => {
    expect(expandSubPath(expr, env)).toBe(want);
  });
  it.each([
    ['$(NOPE)/$(EMPTY)', 'missing value for EMPTY, NOPE'],
    ['/$(POD_NAME)', 'error SubPath `/web-1` must not be an absolute path'],
    ['$(UP)/x', "unable to provision SubPath `../x`: must not contain '..'"],
  ])('refuses %j: %s', (expr, msg) => {
    expect(() => expandSubPath(expr, env)).toThrow(new ConfigError(msg));
  });
});
