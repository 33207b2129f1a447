/**
 * The API server's pure parts: URL parsing, the three patch formats, pod STATUS and age
 * printing, the pod grace period, and the self-signed serving certificate.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { applyPatch, jsonPatch, mergePatch, type Json } from '../../src/apiserver/patch.js';
import { podGracePeriod, resolveContainer } from '../../src/apiserver/pods.js';
import { parseResourcePath } from '../../src/apiserver/requestinfo.js';
import { humanDuration } from '../../src/apiserver/table.js';
import { podRow } from '../../src/api/podstatus.js';
import { selfSignedCertificate } from '../../src/apiserver/tls.js';

describe('parseResourcePath', () => {
  it.each([
    ['/api/v1/pods', { group: '', version: 'v1', namespace: '', resource: 'pods', name: '', subresource: '' }],
    ['/api/v1/namespaces/default/pods', { namespace: 'default', resource: 'pods', name: '' }],
    ['/api/v1/namespaces/default/pods/web', { namespace: 'default', resource: 'pods', name: 'web' }],
    ['/api/v1/namespaces/default/pods/web/log', { resource: 'pods', name: 'web', subresource: 'log' }],
    ['/api/v1/namespaces', { namespace: '', resource: 'namespaces', name: '' }],
    ['/api/v1/namespaces/kube-system', { namespace: '', resource: 'namespaces', name: 'kube-system', subresource: '' }],
    ['/api/v1/namespaces/kube-system/status', { namespace: '', resource: 'namespaces', name: 'kube-system', subresource: 'status' }],
    ['/api/v1/nodes/node-1/status', { namespace: '', resource: 'nodes', name: 'node-1', subresource: 'status' }],
    ['/apis/apps/v1/namespaces/default/deployments/web', { group: 'apps', version: 'v1', namespace: 'default', resource: 'deployments', name: 'web' }],
    ['/api/v1/namespaces/default/pods/a%20b', { name: 'a b' }],
  ])('reads %s', (path, expected) => {
    expect(parseResourcePath(path)).toMatchObject(expected);
  });

  it.each(['/api', '/api/v1', '/apis/apps', '/apis/apps/v1', '/version', '/api/v1/namespaces/d/pods/a/b/c', '/api/v1/pods/%E0%A4%A'])(
    'does not take %s for a resource path', (path) => {
      expect(parseResourcePath(path)).toBeUndefined();
    });
});

describe('JSON merge patch', () => {
  it.each<[string, Json, Json, Json]>([
    ['merges objects', { a: 1, b: { c: 2 } }, { b: { d: 3 } }, { a: 1, b: { c: 2, d: 3 } }],
    ['deletes with null', { a: 1, b: 2 }, { a: null }, { b: 2 }],
    ['replaces lists', { l: [1, 2] }, { l: [3] }, { l: [3] }],
    ['replaces a scalar with an object', { a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
  ])('%s', (_what, target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('leaves its arguments alone', () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('strategic merge patch', () => {
  const pod: { [k: string]: Json } = { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y' }], volumes: [{ name: 'v' }] }, metadata: { finalizers: ['f1'] } };
  it.each<[string, Json, Json]>([
    ['merges containers by name', { spec: { containers: [{ name: 'b', image: 'z' }] } },
      { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'z' }], volumes: [{ name: 'v' }] }],
    ['adds a container with a new name', { spec: { containers: [{ name: 'c', image: 'w' }] } },
      { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y' }, { name: 'c', image: 'w' }], volumes: [{ name: 'v' }] }],
    ['merges env inside a container by name', { spec: { containers: [{ name: 'a', env: [{ name: 'F', value: '2' }] }] } },
      { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }, { name: 'F', value: '2' }] }, { name: 'b', image: 'y' }], volumes: [{ name: 'v' }] }],
    ['deletes an item with $patch: delete', { spec: { volumes: [{ name: 'v', $patch: 'delete' }] } },
      { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y' }], volumes: [] }],
    ['orders items as $setElementOrder says', { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } },
      { containers: [{ name: 'b', image: 'y' }, { name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }], volumes: [{ name: 'v' }] }],
    ['replaces a map with $patch: replace', { spec: { $patch: 'replace', containers: [{ name: 'only', image: 'o' }] } },
      { containers: [{ name: 'only', image: 'o' }] }],
  ])('%s', (_what, patch, expectedSpec) => {
    expect(applyPatch('strategic', pod, patch).spec).toEqual(expectedSpec);
  });

  it('merges finalizers as a set and removes with $deleteFromPrimitiveList', () => {
    expect(applyPatch('strategic', pod, { metadata: { finalizers: ['f1', 'f2'] } }).metadata).toEqual({ finalizers: ['f1', 'f2'] });
    expect(applyPatch('strategic', pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['f1'] } }).metadata).toEqual({ finalizers: [] });
  });

  it('merges service ports by port and container ports by containerPort', () => {
    const svc: { [k: string]: Json } = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    expect(applyPatch('strategic', svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }).spec).toEqual({ ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] });
    const c: { [k: string]: Json } = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'http' }] }] } };
    expect(applyPatch('strategic', c, { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } }).spec)
      .toEqual({ containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }] }] });
  });
});

describe('JSON patch', () => {
  const doc: Json = { a: { b: [1, 2, 3] }, c: 'x' };
  it.each<[string, unknown[], Json]>([
    ['adds to the end of a list with -', [{ op: 'add', path: '/a/b/-', value: 4 }], { a: { b: [1, 2, 3, 4] }, c: 'x' }],
    ['inserts into a list', [{ op: 'add', path: '/a/b/0', value: 0 }], { a: { b: [0, 1, 2, 3] }, c: 'x' }],
    ['removes', [{ op: 'remove', path: '/c' }], { a: { b: [1, 2, 3] } }],
    ['replaces in place', [{ op: 'replace', path: '/a/b/1', value: 9 }], { a: { b: [1, 9, 3] }, c: 'x' }],
    ['moves', [{ op: 'move', from: '/c', path: '/d' }], { a: { b: [1, 2, 3] }, d: 'x' }],
    ['copies', [{ op: 'copy', from: '/c', path: '/a/e' }], { a: { b: [1, 2, 3], e: 'x' }, c: 'x' }],
    ['passes a true test', [{ op: 'test', path: '/a/b', value: [1, 2, 3] }], doc],
    ['unescapes ~1 and ~0', [{ op: 'add', path: '/k~1x~0y', value: 1 }], { a: { b: [1, 2, 3] }, c: 'x', 'k/x~y': 1 }],
  ])('%s', (_what, ops, expected) => {
    expect(jsonPatch(doc, ops)).toEqual(expected);
  });

  it.each<[string, unknown[], number]>([
    ['a false test', [{ op: 'test', path: '/c', value: 'y' }], 422],
    ['replacing a missing path', [{ op: 'replace', path: '/zz', value: 1 }], 422],
    ['removing a missing key', [{ op: 'remove', path: '/zz' }], 422],
    ['an index past the end', [{ op: 'add', path: '/a/b/7', value: 1 }], 422],
    ['an unknown operation', [{ op: 'frobnicate', path: '/c' }], 400],
    ['an add without value', [{ op: 'add', path: '/c' }], 400],
  ])('refuses %s', (_what, ops, code) => {
    let err: unknown;
    try {
      jsonPatch(doc, ops);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(code);
  });
});

describe('pod printing', () => {
  const p = (status: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject =>
    ({ metadata: { name: 'p', ...(extra.metadata as object) }, spec: { containers: [{ name: 'c' }], initContainers: extra.init }, status }) as KubeObject;
  it.each<[string, KubeObject, string]>([
    ['the phase', p({ phase: 'Pending' }), 'Pending'],
    ['a waiting reason', p({ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ErrImagePull' } } }] }), 'ErrImagePull'],
    ['a terminated reason', p({ phase: 'Running', containerStatuses: [{ state: { terminated: { reason: 'Error', exitCode: 1 } } }] }), 'Error'],
    ['an exit code without reason', p({ phase: 'Running', containerStatuses: [{ state: { terminated: { exitCode: 2 } } }] }), 'ExitCode:2'],
    ['a running pod', p({ phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] }), 'Running'],
    ['an init container in progress', p({ phase: 'Pending', initContainerStatuses: [{ state: { running: {} } }] }, { init: [{ name: 'i' }] }), 'Init:0/1'],
    ['a crashing init container', p({ phase: 'Pending', initContainerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, { init: [{ name: 'i' }] }), 'Init:CrashLoopBackOff'],
    ['a pod being deleted', p({ phase: 'Running' }, { metadata: { deletionTimestamp: '2025-01-01T00:00:00Z' } }), 'Terminating'],
  ])('shows %s', (_what, pod, expected) => {
    expect(podRow(pod as Pod, new Date()).status).toBe(expected);
  });

  it.each([[0, '0s'], [59_000, '59s'], [119_000, '119s'], [150_000, '2m30s'], [600_000, '10m'], [3 * 3600_000 + 60_000, '3h1m'],
    [30 * 3600_000, '30h'], [3 * 86400_000 + 3600_000, '3d1h'], [40 * 86400_000, '40d'], [-5000, '<invalid>']])('writes %d ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('pod grace period and containers', () => {
  const pod = (spec: Record<string, unknown>, phase = 'Running'): KubeObject => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }], ...spec }, status: { phase } }) as KubeObject;
  it.each<[string, KubeObject, number | undefined, number]>([
    ['30 s by default for a bound pod', pod({ nodeName: 'n' }), undefined, 30],
    ['the pod\'s own terminationGracePeriodSeconds', pod({ nodeName: 'n', terminationGracePeriodSeconds: 5 }), undefined, 5],
    ['the request\'s value over the pod\'s', pod({ nodeName: 'n', terminationGracePeriodSeconds: 5 }), 2, 2],
    ['0 for an unbound pod', pod({}), 10, 0],
    ['0 for a finished pod', pod({ nodeName: 'n' }, 'Succeeded'), undefined, 0],
    ['1 for a negative request', pod({ nodeName: 'n' }), -3, 1],
  ])('is %s', (_what, p, requested, expected) => {
    expect(podGracePeriod(p, requested)).toBe(expected);
  });

  it('names init containers when no container is chosen', () => {
    const p = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'i' }] } } as Pod;
    expect(() => resolveContainer(p, null)).toThrow('a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]');
    expect(resolveContainer(p, 'i')).toBe('i');
  });
});

describe('selfSignedCertificate', () => {
  it('makes a certificate for the given IPs and names, signed by its own key', async () => {
    const { cert, key } = await selfSignedCertificate({ hosts: ['127.0.0.1', '::1', 'localhost'], days: 10, now: new Date('2025-01-01T00:00:00Z') });
    const x = new X509Certificate(cert);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('10.0.0.1')).toBeUndefined();
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(createPublicKey(key).asymmetricKeyType).toBe('rsa');
    expect(new Date(x.validTo).getTime()).toBe(new Date('2025-01-11T00:00:00Z').getTime());
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });
});
