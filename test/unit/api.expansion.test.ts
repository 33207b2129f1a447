import { describe, expect, it } from 'vitest';
import { containerEnv, expand, expandCommand, expandEnv, fieldRefValue, type EnvContext } from '../../src/api/expansion.js';
import type { Container, Pod } from '../../src/api/types.js';

const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '', REF: '$(A)' };
const mapping = (name: string): string | undefined => vars[name];

describe('expand', () => {
  it.each([
    ['$(A)', 'alpha'],
    ['$(A)-$(A)', 'alpha-alpha'],
    ['x_$(B)_y', 'x_beta_y'],
    ['$(A)$(B)', 'alphabeta'],
    ['pre$(EMPTY)post', 'prepost'],
    ['$(REF)', '$(A)'],
    ['$(UNDEFINED)', '$(UNDEFINED)'],
    ['$$(A)', '$(A)'],
    ['$$(A)_$(B)', '$(A)_beta'],
    ['cost: $$5', 'cost: $5'],
    ['$$$$(A)', '$$(A)'],
    ['$$$(A)', '$alpha'],
    ['$A', '$A'],
    ['${A}', '${A}'],
    ['$?_and_$!', '$?_and_$!'],
    ['(A)', '(A)'],
    ['$(A', '$(A'],
    ['$(B)___$(', 'beta___$('],
    ['--$($($(--', '--$($($(--'],
    ['end$', 'end$'],
    ['$(A$(B))', '$(A$(B))'],
    ['$()', '$()'],
    ['back\\$(A)', 'back\\alpha'],
    ['', ''],
  ])('expands %j to %j', (input, out) => {
    expect(expand(input, mapping)).toBe(out);
  });
});

describe('expandEnv', () => {
  it('expands the seed example against the entry before it', () => {
    expect(expandEnv([
      { name: 'PROFILE', value: 'production' },
      { name: 'MESSAGE', value: 'This application is running on $(PROFILE)' },
    ])).toEqual([
      { name: 'PROFILE', value: 'production' },
      { name: 'MESSAGE', value: 'This application is running on production' },
    ]);
  });

  it.each([
    ['a chain of references', [{ name: 'A', value: 'a' }, { name: 'B', value: '$(A)-b' }, { name: 'C', value: '$(B)-c' }], { A: 'a', B: 'a-b', C: 'a-b-c' }],
    ['a reference to a later entry, left as written', [{ name: 'A', value: '$(B)' }, { name: 'B', value: 'b' }], { A: '$(B)', B: 'b' }],
    ['a redefinition that uses the earlier value', [{ name: 'A', value: '1' }, { name: 'A', value: '$(A)2' }], { A: '12' }],
    ['an empty value', [{ name: 'A', value: '' }], { A: '' }],
    ['an escaped reference', [{ name: 'A', value: 'a' }, { name: 'B', value: '$$(A)' }], { A: 'a', B: '$(A)' }],
  ])('handles %s', (_, env, want) => {
    expect(Object.fromEntries(expandEnv(env).map((e) => [e.name, e.value]))).toEqual(want);
  });

  it('resolves service variables but lets declared ones win', () => {
    const env = expandEnv([{ name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)' }, { name: 'WEB_SERVICE_PORT', value: '8080' }],
      { serviceEnv: { WEB_SERVICE_HOST: '10.96.0.10', WEB_SERVICE_PORT: '80' } });
    expect(env).toEqual([{ name: 'URL', value: 'http://10.96.0.10:80' }, { name: 'WEB_SERVICE_PORT', value: '8080' }]);
  });
});

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: '1234', labels: { app: 'web', tier: 'fe' }, annotations: { note: '$(A)' } },
  spec: { nodeName: 'node-1', serviceAccountName: 'default', containers: [{ name: 'web', image: 'nginx' }] },
  status: { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], hostIP: '172.18.0.2' },
};

describe('fieldRefValue', () => {
  it.each([
    ['metadata.name', 'web'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', '1234'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['missing']", ''],
    ['metadata.labels', 'app="web"\ntier="fe"'],
    ['spec.nodeName', 'node-1'],
    ['spec.serviceAccountName', 'default'],
    ['status.podIP', '10.244.1.5'],
    ['status.podIPs', '10.244.1.5'],
    ['status.hostIP', '172.18.0.2'],
  ])('reads %s', (path, value) => {
    expect(fieldRefValue(path, { pod })).toBe(value);
  });

  it('prefers the kubelet\'s own knowledge over the pod object', () => {
    expect(fieldRefValue('status.podIP', { pod, podIP: '10.244.1.9' })).toBe('10.244.1.9');
    expect(fieldRefValue('metadata.name', { podName: 'other' })).toBe('other');
  });

  it('refuses a path the downward API does not offer', () => {
    expect(() => fieldRefValue('spec.containers', { pod })).toThrow('unsupported fieldPath: spec.containers');
  });
});

describe('containerEnv', () => {
  const ctx: EnvContext = { pod };

  it('resolves downward API values without expanding them', () => {
    const c: Container = {
      name: 'web', image: 'nginx',
      env: [
        { name: 'A', value: 'alpha' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
        { name: 'WHERE', value: '$(POD_NAMESPACE)/$(POD_NAME) on $(NODE)' },
      ],
    };
    expect(containerEnv(c, ctx)).toEqual([
      { name: 'A', value: 'alpha' },
      { name: 'POD_NAME', value: 'web' },
      { name: 'POD_NAMESPACE', value: 'shop' },
      { name: 'POD_IP', value: '10.244.1.5' },
      { name: 'NODE', value: 'node-1' },
      { name: 'NOTE', value: '$(A)' },
      { name: 'WHERE', value: 'shop/web on node-1' },
    ]);
  });

  it('puts envFrom first, lets env override it, and appends undeclared service variables', () => {
    const c: Container = {
      name: 'web', image: 'nginx',
      envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }],
      env: [{ name: 'CFG_MODE', value: 'override-$(CFG_LEVEL)' }],
    };
    const env = containerEnv(c, {
      resolveEnvFrom: () => ({ MODE: 'default', LEVEL: '3' }),
      serviceEnv: { KUBERNETES_SERVICE_HOST: '10.96.0.1', CFG_LEVEL: 'ignored' },
    });
    expect(env).toEqual([
      { name: 'CFG_MODE', value: 'override-3' },
      { name: 'CFG_LEVEL', value: '3' },
      { name: 'KUBERNETES_SERVICE_HOST', value: '10.96.0.1' },
    ]);
  });

  it('asks the resolver for ConfigMap and Secret keys and skips optional missing ones', () => {
    const c: Container = {
      name: 'web', image: 'nginx',
      env: [
        { name: 'USER', valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } },
        { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'gone', optional: true } } },
      ],
    };
    const env = containerEnv(c, { resolve: (src) => (src.secretKeyRef ? 'admin' : undefined) });
    expect(env).toEqual([{ name: 'USER', value: 'admin' }]);
  });

  it('throws when a ConfigMap reference has no resolver to answer it', () => {
    const c: Container = { name: 'web', image: 'nginx', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'x' } } }] };
    expect(() => containerEnv(c, {})).toThrow('env X: resolving configMapKeyRef or secretKeyRef needs a resolver');
  });

  it.each([
    ['limits.memory', '1Mi', '128'],
    ['limits.cpu', '1m', '500'],
    ['limits.cpu', undefined, '1'],
    ['requests.memory', undefined, '67108864'],
    ['limits.ephemeral-storage', undefined, '10737418240'],
  ])('computes resourceFieldRef %s with divisor %s as %s', (resource, divisor, value) => {
    const c: Container = {
      name: 'web', image: 'nginx',
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { memory: '64Mi' } },
      env: [{ name: 'V', valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } }],
    };
    expect(containerEnv(c, { nodeAllocatable: { 'ephemeral-storage': '10Gi' } })).toEqual([{ name: 'V', value }]);
  });
});

describe('expandCommand', () => {
  const env = [{ name: 'MESSAGE', value: 'This application is running on production' }];

  it('expands command and args against the whole environment', () => {
    expect(expandCommand(['sh', '-c', 'echo $(MESSAGE); echo $$(HOME) $(UNDEFINED) $HOME'], env))
      .toEqual(['sh', '-c', 'echo This application is running on production; echo $(HOME) $(UNDEFINED) $HOME']);
  });

  it('accepts the environment as a map and an absent command', () => {
    expect(expandCommand(['$(A)'], { A: 'x' })).toEqual(['x']);
    expect(expandCommand(undefined, env)).toEqual([]);
  });
});
