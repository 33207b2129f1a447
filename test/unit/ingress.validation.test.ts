import { describe, expect, it } from 'vitest';
import type { Ingress, IngressClass } from '../../src/api/ingressvalidation.js';
import {
  defaultIngressClass, ingressHosts, ingressRow, validateIngress, validateIngressClass,
} from '../../src/api/ingressvalidation.js';
import { defaultIngressClassAdmission } from '../../src/apiserver/admission/ingressclass.js';
import { findResource } from '../../src/api/registry.js';

const INGRESS_DEF = findResource('networking.k8s.io', 'v1', 'ingresses')!;
const CLASS_DEF = findResource('networking.k8s.io', 'v1', 'ingressclasses')!;
import { buildIngress } from '../../src/cli/commands/createingress.js';

const svc = (name = 'web', port: { number?: number; name?: string } = { number: 80 }) => ({ service: { name, port } });
const ing = (spec: Ingress['spec'], extra: Partial<Ingress['metadata']> = {}): Ingress =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'shop', namespace: 'default', ...extra }, spec });
const rule = (path: Record<string, unknown>, host?: string) => ({ ...(host !== undefined ? { host } : {}), http: { paths: [{ backend: svc(), ...path }] } }) as never;
const msgs = (i: Ingress) => validateIngress(i).map((e) => `${e.field}: ${e.message}`);

describe('Ingress validation', () => {
  const cases: [string, Ingress, string[]][] = [
    ['accepts a host with Prefix and Exact paths', ing({ rules: [rule({ path: '/', pathType: 'Prefix' }, 'shop.local'), rule({ path: '/api', pathType: 'Exact' })] }), []],
    ['accepts a defaultBackend alone', ing({ defaultBackend: svc() }), []],
    ['accepts a wildcard host and a named port', ing({ rules: [rule({ path: '/', pathType: 'Prefix', backend: svc('api', { name: 'http' }) }, '*.foo.com')] }), []],
    ['accepts ImplementationSpecific without a path', ing({ rules: [rule({ pathType: 'ImplementationSpecific' })] }), []],
    ['refuses an Ingress with neither rules nor defaultBackend', ing({}),
      ['spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified']],
    ['requires pathType', ing({ rules: [rule({ path: '/' })] }), ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']],
    ['refuses an unknown pathType', ing({ rules: [rule({ path: '/', pathType: 'Regex' })] }),
      ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"']],
    ['requires an absolute path', ing({ rules: [rule({ path: 'api', pathType: 'Prefix' })] }), ['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']],
    ['refuses // and a trailing /..', ing({ rules: [rule({ path: '/a//b/..', pathType: 'Exact' })] }), [
      'spec.rules[0].http.paths[0].path: Invalid value: "/a//b/..": must not contain \'//\'',
      'spec.rules[0].http.paths[0].path: Invalid value: "/a//b/..": cannot end with \'/..\''],
    ],
    ['refuses a wildcard that is not a leading label', ing({ rules: [rule({ path: '/', pathType: 'Prefix' }, 'foo.*.com')] }),
      ['spec.rules[0].host: Invalid value: "foo.*.com": a wildcard DNS-1123 subdomain must start with \'*.\', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, \'-\' or \'.\' and end with an alphanumeric character (e.g. \'*.example.com\', regex used for validation is \'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')']],
    ['refuses an IP address as host', ing({ rules: [rule({ path: '/', pathType: 'Prefix' }, '10.0.0.1')] }), ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address']],
    ['refuses resource backends as not supported by minikube-lite', ing({ defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'b' } } }),
      ['spec.defaultBackend.resource: Forbidden: resource backends are not supported by minikube-lite; use a service backend (service.name and service.port)']],
    ['refuses both a port name and number', ing({ defaultBackend: svc('web', { number: 80, name: 'http' }) }), ['spec.defaultBackend: Invalid value: "": cannot set both port name & port number']],
    ['requires a port', ing({ defaultBackend: svc('web', {}) }), ['spec.defaultBackend: Required value: port name or number is required']],
    ['refuses a service name that is not a DNS-1035 label', ing({ defaultBackend: svc('1web') }), [
      'spec.defaultBackend.service.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')']],
    ['refuses a bad port number', ing({ defaultBackend: svc('web', { number: 70000 }) }), ['spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['checks TLS hosts and secret names', ing({ defaultBackend: svc(), tls: [{ hosts: ['Bad_Host'], secretName: 'Bad' }] }), [
      'spec.tls[0].hosts[0]: Invalid value: "Bad_Host": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
      'spec.tls[0].secretName: Invalid value: "Bad": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')']],
    ['refuses a class annotation that disagrees with ingressClassName', ing({ defaultBackend: svc(), ingressClassName: 'nginx' }, { annotations: { 'kubernetes.io/ingress.class': 'other' } }),
      ['annotations.kubernetes.io/ingress.class: Invalid value: "other": must match `ingressClassName` when both are specified']],
  ];
  it.each(cases)('%s', (_n, obj, want) => expect(msgs(obj)).toEqual(want));
});

describe('IngressClass validation and defaults', () => {
  const ic = (spec: IngressClass['spec']): IngressClass => ({ metadata: { name: 'nginx' }, spec });
  it.each([
    ['accepts a domain-prefixed controller', ic({ controller: 'k8s.io/ingress-nginx' }), []],
    ['requires a controller', ic({}), ['spec.controller: Required value']],
    ['refuses a controller without a domain', ic({ controller: 'nginx' }), ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']],
    ['requires kind and name of parameters', ic({ controller: 'a.io/b', parameters: { kind: '', name: '', scope: 'Cluster' } }),
      ['spec.parameters.kind: Required value: kind is required', 'spec.parameters.name: Required value: name is required']],
  ] as [string, IngressClass, string[]][])('%s', (_n, obj, want) => expect(validateIngressClass(obj).map((e) => `${e.field}: ${e.message}`)).toEqual(want));

  it('keeps the controller immutable', () => {
    expect(validateIngressClass(ic({ controller: 'a.io/x' }), ic({ controller: 'a.io/y' })).map((e) => e.message)).toEqual(['Invalid value: "a.io/x": field is immutable']);
  });

  it('defaults the parameters scope to Cluster', () => {
    const obj = ic({ controller: 'a.io/b', parameters: { kind: 'K', name: 'n' } });
    CLASS_DEF.applyDefaults(obj);
    expect(obj.spec?.parameters?.scope).toBe('Cluster');
  });
});

describe('default IngressClass admission', () => {
  const cls = (name: string, created: string, isDefault: boolean): IngressClass => ({
    metadata: { name, creationTimestamp: created, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} }, spec: { controller: 'k8s.io/x' },
  });
  const classes = [cls('old', '2024-01-01T00:00:00Z', true), cls('new', '2025-01-01T00:00:00Z', true), cls('plain', '2026-01-01T00:00:00Z', false)];
  const reader = { get: async () => undefined, list: async () => classes };
  const admit = async (i: Ingress) => {
    await defaultIngressClassAdmission.admit({ operation: 'CREATE', def: INGRESS_DEF, object: i, namespace: 'default', name: 'shop' }, reader);
    return i.spec?.ingressClassName;
  };

  it('gives a class-less Ingress the newest default class', async () => {
    expect(defaultIngressClass(classes)?.metadata?.name).toBe('new');
    expect(await admit(ing({ defaultBackend: svc() }))).toBe('new');
  });
  it('leaves an Ingress that names a class, or has the legacy annotation, alone', async () => {
    expect(await admit(ing({ defaultBackend: svc(), ingressClassName: 'plain' }))).toBe('plain');
    expect(await admit(ing({ defaultBackend: svc() }, { annotations: { 'kubernetes.io/ingress.class': 'x' } }))).toBeUndefined();
  });
});

describe('kubectl columns and create ingress', () => {
  it('prints hosts as kubectl does (* without hosts, + N more past three) and 80, 443 with TLS', () => {
    const four = ing({ rules: ['a', 'b', 'c', 'd'].map((h) => rule({ path: '/', pathType: 'Prefix' }, `${h}.io`)), tls: [{ hosts: ['a.io'] }] });
    expect(ingressHosts(four)).toBe('a.io,b.io,c.io + 1 more...');
    expect(ingressHosts(ing({ defaultBackend: svc() }))).toBe('*');
    const row = ingressRow({ ...four, status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } }, new Date());
    expect([row.class, row.address, row.ports]).toEqual(['<none>', '127.0.0.1', '80, 443']);
  });

  it('builds rules as kubectl create ingress does: * makes a Prefix path, hosts share a rule, tls=secret', () => {
    const built = buildIngress('shop', 'default', { rule: ['shop.local/=web:80', 'shop.local/api*=api:http,tls=shop-tls', '/x=web:80'], class: 'nginx', annotation: [] });
    expect(built.spec).toEqual({
      ingressClassName: 'nginx',
      rules: [
        { host: 'shop.local', http: { paths: [
          { path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } },
          { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } },
        ] } },
        { http: { paths: [{ path: '/x', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } }] } },
      ],
      tls: [{ hosts: ['shop.local'], secretName: 'shop-tls' }],
    });
    expect(validateIngress(built)).toEqual([]);
    expect(() => buildIngress('x', 'default', { rule: ['shop.local=web:80'], annotation: [] })).toThrow('rule shop.local=web:80 is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]');
  });
});
