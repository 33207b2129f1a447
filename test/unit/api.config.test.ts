/**
 * ConfigMap and Secret decoding and validation, configuration volume validation (including
 * the refusal of unsupported volume types), and the warnings for unhonoured pod fields.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, Secret, Volume } from '../../src/api/types.js';
import { ApiError } from '../../src/api/errors.js';
import {
  decodeBase64, MAX_CONFIG_BYTES, normalizeConfigMap, normalizeSecret, validateConfigMap, validateSecret,
} from '../../src/api/configvalidation.js';
import { applyPodDefaults } from '../../src/api/defaults.js';
import { validatePod } from '../../src/api/validation.js';
import { newWarnings, podSpecWarnings } from '../../src/api/podwarnings.js';
import { findKind } from '../../src/api/registry.js';

const msgs = (errs: { field: string; message: string }[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const cm = (over: Partial<ConfigMap> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, ...over });
const secret = (over: Partial<Secret> = {}): Secret => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...over });

describe('decodeBase64', () => {
  it.each([
    ['YWJj', 'abc'],
    ['YWI=', 'ab'],
    ['YQ==', 'a'],
    ['YW\nJj', 'abc'],
    ['', ''],
  ])('decodes %j', (input, want) => {
    const r = decodeBase64(input);
    expect(r.ok && r.bytes.toString()).toBe(want);
  });
  it.each([
    ['YWJ', 0],
    ['YW*j', 2],
    ['YQ=a', 2],
    ['Y===', 1],
    ['YWJjZA', 4],
  ])('reports the first illegal byte of %j', (input, at) => {
    expect(decodeBase64(input)).toEqual({ ok: false, at });
  });
});

describe('Secret decoding (the v1 conversion)', () => {
  it('merges stringData into data as base64, replacing data entries of the same key, and never stores stringData', () => {
    const s = secret({ data: { a: b64('old'), keep: b64('k') }, stringData: { a: 'new', b: 'ünï' } });
    normalizeSecret(s);
    expect(s).toEqual(secret({ data: { a: b64('new'), keep: b64('k'), b: b64('ünï') }, type: 'Opaque' }));
  });
  it('stores data re-encoded canonically (line breaks dropped)', () => {
    const s = secret({ data: { a: 'YW\nJj' } });
    normalizeSecret(s);
    expect(s.data).toEqual({ a: 'YWJj' });
  });
  it('refuses data that is not base64 with a 400, worded as Kubernetes', () => {
    let err: unknown;
    try {
      normalizeSecret(secret({ data: { a: 'not base64!' } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).message).toBe('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
  });
  it('refuses non-string values', () => {
    expect(() => normalizeSecret(secret({ stringData: { a: 1 as unknown as string } }))).toThrow(/cannot unmarshal number/);
  });
  it('checks ConfigMap binaryData as base64 too', () => {
    expect(() => normalizeConfigMap(cm({ binaryData: { b: '%%%%' } }))).toThrow('ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0');
  });
});

describe('ConfigMap validation', () => {
  const cases: [string, ConfigMap, ConfigMap | undefined, string[]][] = [
    ['a valid ConfigMap', cm({ data: { 'game.properties': 'x', KEY_1: 'y' }, binaryData: { 'b.bin': b64('\x00') } }), undefined, []],
    ['a key with a slash', cm({ data: { 'a/b': 'x' } }), undefined, [
      `data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`]],
    ['the key ..', cm({ data: { '..': 'x' } }), undefined, ['data[..]: Invalid value: "..": must not be \'..\'']],
    ['the key .', cm({ binaryData: { '.': '' } }), undefined, ['binaryData[.]: Invalid value: ".": must not be \'.\'']],
    ['a key starting with ..', cm({ data: { '..x': 'x' } }), undefined, ['data[..x]: Invalid value: "..x": must not start with \'..\'']],
    ['a key longer than 253', cm({ data: { ['k'.repeat(254)]: 'x' } }), undefined, [`data[${'k'.repeat(254)}]: Invalid value: "${'k'.repeat(254)}": must be no more than 253 characters`]],
    ['a key in data and binaryData', cm({ data: { k: 'x' }, binaryData: { k: b64('y') } }), undefined, ['data[k]: Invalid value: "k": duplicate of key present in binaryData']],
    ['more than 1 MiB', cm({ data: { a: 'x'.repeat(MAX_CONFIG_BYTES), b: 'y' } }), undefined, ['[]: Too long: must have at most 1048576 bytes']],
    ['exactly 1 MiB over data and binaryData', cm({ data: { a: 'x'.repeat(MAX_CONFIG_BYTES - 1) }, binaryData: { b: b64('y') } }), undefined, []],
    ['an immutable ConfigMap whose data changes', cm({ immutable: true, data: { a: '2' } }), cm({ immutable: true, data: { a: '1' } }),
      ['data: Forbidden: field is immutable when `immutable` is set']],
    ['an immutable ConfigMap made mutable', cm({ immutable: false, data: { a: '1' } }), cm({ immutable: true, data: { a: '1' } }),
      ['immutable: Forbidden: field is immutable when `immutable` is set']],
    ['an immutable ConfigMap whose binaryData changes', cm({ immutable: true, binaryData: { a: b64('2') } }), cm({ immutable: true, binaryData: { a: b64('1') } }),
      ['binaryData: Forbidden: field is immutable when `immutable` is set']],
    ['an immutable ConfigMap whose labels change', cm({ immutable: true, data: { a: '1' }, metadata: { name: 'cfg', namespace: 'default', labels: { x: 'y' } } }), cm({ immutable: true, data: { a: '1' } }), []],
    ['a mutable ConfigMap made immutable', cm({ immutable: true, data: { a: '2' } }), cm({ data: { a: '1' } }), []],
  ];
  it.each(cases)('%s', (_name, obj, old, want) => {
    expect(msgs(validateConfigMap(obj, old))).toEqual(want);
  });
});

describe('Secret validation', () => {
  const tls = (data: Record<string, string>) => secret({ type: 'kubernetes.io/tls', data });
  const cases: [string, Secret, Secret | undefined, string[]][] = [
    ['an Opaque secret', secret({ type: 'Opaque', data: { a: b64('x') } }), undefined, []],
    ['a TLS secret with both keys', tls({ 'tls.crt': b64('c'), 'tls.key': b64('k') }), undefined, []],
    ['a TLS secret without its keys', tls({}), undefined, ['data[tls.crt]: Required value', 'data[tls.key]: Required value']],
    ['a TLS secret without tls.key', tls({ 'tls.crt': b64('c') }), undefined, ['data[tls.key]: Required value']],
    ['a dockerconfigjson secret without its key', secret({ type: 'kubernetes.io/dockerconfigjson', data: {} }), undefined, ['data[.dockerconfigjson]: Required value']],
    ['a dockerconfigjson secret that is not JSON', secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } }), undefined,
      [expect.stringMatching(/^data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>": /) as unknown as string]],
    ['a valid dockerconfigjson secret', secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } }), undefined, []],
    ['a dockercfg secret without its key', secret({ type: 'kubernetes.io/dockercfg' }), undefined, ['data[.dockercfg]: Required value']],
    ['a basic-auth secret with neither key', secret({ type: 'kubernetes.io/basic-auth', data: {} }), undefined, ['data[username]: Required value', 'data[password]: Required value']],
    ['a basic-auth secret with only a password', secret({ type: 'kubernetes.io/basic-auth', data: { password: b64('p') } }), undefined, []],
    ['an ssh-auth secret without its key', secret({ type: 'kubernetes.io/ssh-auth', data: { x: b64('1') } }), undefined, ['data[ssh-privatekey]: Required value']],
    ['a service-account-token secret without the annotation', secret({ type: 'kubernetes.io/service-account-token' }), undefined,
      ['metadata.annotations[kubernetes.io/service-account.name]: Required value']],
    ['a bootstrap token (Kubernetes checks no keys)', secret({ type: 'bootstrap.kubernetes.io/token', data: { 'token-id': b64('abcdef') } }), undefined, []],
    ['a key that is not a file name', secret({ data: { '../x': b64('1') } }), undefined, [
      `data[../x]: Invalid value: "../x": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      'data[../x]: Invalid value: "../x": must not start with \'..\'']],
    ['more than 1 MiB of data', secret({ data: { a: Buffer.alloc(MAX_CONFIG_BYTES + 1).toString('base64') } }), undefined, ['data: Too long: must have at most 1048576 bytes']],
    ['a type change', secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }), secret({ type: 'Opaque' }), ['type: Invalid value: "kubernetes.io/tls": field is immutable']],
    ['an immutable secret whose data changes', secret({ type: 'Opaque', immutable: true, data: { a: b64('2') } }), secret({ type: 'Opaque', immutable: true, data: { a: b64('1') } }),
      ['data: Forbidden: field is immutable when `immutable` is set']],
  ];
  it.each(cases)('%s', (_name, obj, old, want) => {
    expect(msgs(validateSecret(obj, old))).toEqual(want);
  });
});

describe('the ConfigMap and Secret kinds in the registry', () => {
  it('serves configmaps (cm) and secrets as core/v1 kinds with a type field selector on secrets', () => {
    const c = findKind('v1', 'ConfigMap');
    const s = findKind('v1', 'Secret');
    expect(c?.resource).toBe('configmaps');
    expect(c?.shortNames).toEqual(['cm']);
    expect(s?.fieldLabels?.({ kind: 'Secret', type: 'kubernetes.io/tls' } as Secret)).toEqual({ type: 'kubernetes.io/tls' });
  });
  it('merges stringData on create and on update through the prepare hooks', () => {
    const def = findKind('v1', 'Secret')!;
    const obj = secret({ stringData: { a: 'x' } });
    def.prepareForCreate?.(obj);
    expect(obj).toEqual(secret({ data: { a: b64('x') }, type: 'Opaque' }));
    const upd = secret({ type: 'Opaque', stringData: { b: 'y' }, data: { a: b64('x') } });
    def.prepareForUpdate?.(upd, obj, upd, '');
    expect(upd.data).toEqual({ a: b64('x'), b: b64('y') });
  });
});

/** A pod with `volumes`, defaulted as the API server would, validated. */
function podErrors(volumes: Volume[], mutate: (p: Pod) => void = () => undefined): string[] {
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], volumes },
  };
  mutate(pod);
  applyPodDefaults(pod);
  return msgs(validatePod(pod));
}

describe('configuration volume validation', () => {
  const cases: [string, Volume[], string[]][] = [
    ['configMap, secret, downwardAPI and projected volumes', [
      { name: 'a', configMap: { name: 'cfg', items: [{ key: 'k', path: 'dir/k', mode: 0o400 }] } },
      { name: 'b', secret: { secretName: 's', defaultMode: 0o400, optional: true } },
      { name: 'c', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
      { name: 'd', projected: { sources: [{ configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { serviceAccountToken: { path: 'token' } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
    ], []],
    ['a persistentVolumeClaim volume (left to the storage validation)', [{ name: 'a', persistentVolumeClaim: { claimName: 'data' } }], []],
    ['an nfs volume', [{ name: 'a', nfs: { server: 'x', path: '/' } }],
      ['spec.volumes[0].nfs: Forbidden: nfs volumes are not supported by minikube-lite (supported: configMap, downwardAPI, emptyDir, hostPath, persistentVolumeClaim, projected, secret)']],
    ['a csi volume', [{ name: 'a', csi: { driver: 'x' } }],
      ['spec.volumes[0].csi: Forbidden: csi volumes are not supported by minikube-lite (supported: configMap, downwardAPI, emptyDir, hostPath, persistentVolumeClaim, projected, secret)']],
    ['a configMap volume without a name', [{ name: 'a', configMap: {} }], ['spec.volumes[0].configMap.name: Required value']],
    ['a secret volume without secretName', [{ name: 'a', secret: {} }], ['spec.volumes[0].secret.secretName: Required value']],
    ['a defaultMode over 0777', [{ name: 'a', secret: { secretName: 's', defaultMode: 0o1000 } }],
      ['spec.volumes[0].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive']],
    ['an item path with ..', [{ name: 'a', configMap: { name: 'c', items: [{ key: 'k', path: '../x' }] } }],
      ['spec.volumes[0].configMap.items[0].path: Invalid value: "../x": must not contain \'..\'', 'spec.volumes[0].configMap.items[0].path: Invalid value: "../x": must not start with \'..\'']],
    ['an absolute item path', [{ name: 'a', configMap: { name: 'c', items: [{ key: 'k', path: '/etc/x' }] } }],
      ['spec.volumes[0].configMap.items[0].path: Invalid value: "/etc/x": must be a relative path']],
    ['a downwardAPI item naming status.podIP (env only)', [{ name: 'a', downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }],
      ['spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "status.podIP": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"']],
    ['a downwardAPI resourceFieldRef without containerName', [{ name: 'a', downwardAPI: { items: [{ path: 'm', resourceFieldRef: { resource: 'limits.memory' } }] } }],
      ['spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: Required value']],
    ['a downwardAPI item with neither ref', [{ name: 'a', downwardAPI: { items: [{ path: 'm' }] } }],
      ['spec.volumes[0].downwardAPI.items[0]: Required value: one of fieldRef and resourceFieldRef is required']],
    ['a cpu divisor Kubernetes does not allow', [{ name: 'a', downwardAPI: { items: [{ path: 'm', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '2' } }] } }],
      ['spec.volumes[0].downwardAPI.items[0].resourceFieldRef.divisor: Invalid value: "limits.cpu": only divisor\'s values 1m and 1 are supported with the cpu resource']],
    ['a projected volume with two sources writing one path', [{ name: 'a', projected: { sources: [
      { configMap: { name: 'a', items: [{ key: 'k', path: 'same' }] } }, { configMap: { name: 'b', items: [{ key: 'k', path: 'same' }] } }] } }],
      ['spec.volumes[0].projected.sources[1].configMap.items[0].path: Invalid value: "same": conflicting duplicate paths']],
    ['a projected token and downwardAPI item on one path', [{ name: 'a', projected: { sources: [
      { serviceAccountToken: { path: 'token' } }, { downwardAPI: { items: [{ path: 'token', fieldRef: { fieldPath: 'metadata.name' } }] } }] } }],
      ['spec.volumes[0].projected.sources[1].downwardAPI.items[0].path: Invalid value: "token": conflicting duplicate paths']],
    ['a projected token living less than 10 minutes', [{ name: 'a', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 60 } }] } }],
      ['spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes']],
    ['a projected source with two types', [{ name: 'a', projected: { sources: [{ configMap: { name: 'a' }, secret: { name: 'b' } }] } }],
      ['spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 volume type per source']],
    ['a clusterTrustBundle projection', [{ name: 'a', projected: { sources: [{ clusterTrustBundle: { path: 'x', name: 'b' } } as never] } }],
      ['spec.volumes[0].projected.sources[0].clusterTrustBundle: Forbidden: clusterTrustBundle projections are not supported by minikube-lite']],
  ];
  it.each(cases)('%s', (_name, volumes, want) => {
    expect(podErrors(volumes)).toEqual(want);
  });

  it('defaults file modes to 0644 and token lifetimes to an hour', () => {
    const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'b' }], volumes: [
      { name: 'a', configMap: { name: 'x' } }, { name: 'b', secret: { secretName: 'x' } }, { name: 'c', downwardAPI: {} },
      { name: 'd', projected: { sources: [{ serviceAccountToken: { path: 't' } }, { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
    ] } };
    applyPodDefaults(pod);
    const v = pod.spec?.volumes ?? [];
    expect([v[0].configMap?.defaultMode, v[1].secret?.defaultMode, v[2].downwardAPI?.defaultMode, v[3].projected?.defaultMode]).toEqual([0o644, 0o644, 0o644, 0o644]);
    expect(v[3].projected?.sources?.[0].serviceAccountToken?.expirationSeconds).toBe(3600);
    expect(v[3].projected?.sources?.[1].downwardAPI?.items?.[0].fieldRef?.apiVersion).toBe('v1');
  });

  it('checks env resourceFieldRef divisors too', () => {
    expect(podErrors([], (p) => {
      p.spec!.containers[0].env = [{ name: 'M', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '3' } } }];
    })).toEqual(['spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.memory": only divisor\'s values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource']);
  });
});

describe('warnings for pod fields minikube-lite does not honour', () => {
  it('names each field set, with its path, for pods and pod templates', () => {
    const spec: Pod['spec'] = {
      hostNetwork: true, securityContext: { runAsUser: 1000 }, activeDeadlineSeconds: 10, imagePullSecrets: [{ name: 'reg' }],
      initContainers: [{ name: 'i', image: 'b', restartPolicy: 'Always' }],
      containers: [{ name: 'c', image: 'b', securityContext: { privileged: true }, resources: { limits: { 'example.com/gpu': '1', memory: '1Gi' } },
        volumeMounts: [{ name: 'v', mountPath: '/x', subPathExpr: '$(POD)', mountPropagation: 'HostToContainer' }] }],
      volumes: [{ name: 'v', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }],
    };
    expect(podSpecWarnings(spec, 'spec.template.spec')).toEqual([
      "spec.template.spec.hostNetwork: ignored by minikube-lite: the pod gets its own address on the pod network, not the node's network",
      'spec.template.spec.securityContext: ignored by minikube-lite: pod security settings (runAsUser, fsGroup, sysctls, seccomp...) are not applied',
      'spec.template.spec.activeDeadlineSeconds: ignored by minikube-lite: the kubelet does not end pods at their deadline',
      'spec.template.spec.imagePullSecrets: ignored by minikube-lite: images are pulled without registry credentials',
      'spec.template.spec.volumes[0].emptyDir.medium: ignored by minikube-lite: a memory-backed emptyDir mounted through a subPath is kept on disk',
      'spec.template.spec.initContainers[0].restartPolicy: ignored by minikube-lite: sidecar init containers are run to completion like other init containers',
      'spec.template.spec.containers[0].securityContext: ignored by minikube-lite: container security settings (privileged, capabilities, runAsUser, readOnlyRootFilesystem...) are not applied',
      'spec.template.spec.containers[0].resources.limits[example.com/gpu]: ignored by minikube-lite: only cpu and memory are enforced on containers',
      'spec.template.spec.containers[0].volumeMounts[0].mountPropagation: ignored by minikube-lite: mounts are private',
    ]);
  });
  it('warns about sizeLimit only for a disk-backed emptyDir', () => {
    expect(podSpecWarnings({ containers: [], volumes: [{ name: 'a', emptyDir: { sizeLimit: '1Gi' } }, { name: 'b', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }] }))
      .toEqual(['spec.volumes[0].emptyDir.sizeLimit: ignored by minikube-lite: a disk-backed emptyDir is not limited (medium: Memory is)']);
  });
  it('has nothing to say about a plain pod with defaults applied', () => {
    const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { limits: { cpu: '1', memory: '1Gi' } } }] } };
    applyPodDefaults(pod);
    expect(podSpecWarnings(pod.spec)).toEqual([]);
  });
  it('warns on update only about what is new', () => {
    expect(newWarnings(['a', 'b'], ['a'])).toEqual(['b']);
    expect(newWarnings(['a'], undefined)).toEqual(['a']);
  });
  it('is wired into the Pod, Deployment and ReplicaSet kinds', () => {
    const pod = { spec: { hostNetwork: true, containers: [] } };
    expect(findKind('v1', 'Pod')?.warnings?.(pod as never)).toHaveLength(1);
    expect(findKind('v1', 'Pod')?.warnings?.(pod as never, pod as never)).toEqual([]);
    expect(findKind('apps/v1', 'Deployment')?.warnings?.({ spec: { template: { spec: pod.spec } } } as never)?.[0]).toMatch(/^spec\.template\.spec\.hostNetwork: /);
    expect(findKind('apps/v1', 'ReplicaSet')?.warnings?.({ spec: { template: { spec: pod.spec } } } as never)).toHaveLength(1);
  });
});
