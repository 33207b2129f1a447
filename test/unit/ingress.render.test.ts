import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/api/types.js';
import type { Ingress } from '../../src/api/ingressvalidation.js';
import { locationMatches, pickLocation, renderNginx, resolveBackend, serverName } from '../../src/ingress/render.js';

const svc = (name: string, ports: { name?: string; port: number }[]): Service => ({ metadata: { name, namespace: 'default' }, spec: { ports } });
const slice = (service: string, port: number, ips: [string, boolean][], portName = 'http'): EndpointSlice => ({
  metadata: { name: `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', ports: [{ name: portName, port }],
  endpoints: ips.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
});
const services = [svc('web', [{ name: 'http', port: 80 }]), svc('api', [{ name: 'http', port: 80 }]), svc('admin', [{ name: 'http', port: 80 }])];
const slices = [slice('web', 8080, [['10.1.0.1', true], ['10.1.0.2', true], ['10.1.0.3', false]]), slice('api', 9090, [['10.1.0.9', true]]), slice('admin', 80, [])];
const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
type P = [string, 'Exact' | 'Prefix' | 'ImplementationSpecific', string];
const ingress = (name: string, created: string, rules: { host?: string; paths: P[] }[], extra: Partial<NonNullable<Ingress['spec']>> = {}): Ingress => ({
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { ...extra, rules: rules.map((r) => ({ ...(r.host ? { host: r.host } : {}), http: { paths: r.paths.map(([path, pathType, to]) => ({ path, pathType, backend: backend(to) })) } })) },
});
const render = (ings: Ingress[]) => renderNginx({ ingresses: ings, services, slices, tls: new Map(), confDir: '/etc/ingress-nginx', healthPort: 10254 });

describe('nginx location matches of Ingress paths', () => {
  it.each([
    [['/foo', 'Exact'], ['= /foo']],
    [['/foo', 'Prefix'], ['= /foo', '^~ /foo/']],
    [['/foo/', 'Prefix'], ['= /foo', '^~ /foo/']],
    [['/', 'Prefix'], ['^~ /']],
    [['/foo', 'ImplementationSpecific'], ['^~ /foo']],
    [['', 'ImplementationSpecific'], ['^~ /']],
  ] as [[string, P[1]], string[]][])('%j → %j', ([path, pathType], want) => expect(locationMatches({ path, pathType })).toEqual(want));

  it('matches a wildcard host on exactly one label', () => {
    expect(serverName('*.foo.com')).toBe('~^[^.]+\\.foo\\.com$');
    expect(serverName('foo.com')).toBe('foo.com');
  });
});

describe('Kubernetes path precedence in the rendered configuration', () => {
  const shop = ingress('shop', '2026-01-01T00:00:00Z', [
    { host: 'shop.local', paths: [['/', 'Prefix', 'web'], ['/api', 'Prefix', 'api'], ['/api/admin', 'Prefix', 'admin'], ['/exact', 'Exact', 'api'], ['/exact', 'Prefix', 'web'], ['/impl', 'ImplementationSpecific', 'api']] },
    { host: '*.shop.local', paths: [['/', 'Prefix', 'api']] },
    { paths: [['/nohost', 'Prefix', 'api']] },
  ]);
  const { servers } = render([shop]);
  const to = (host: string, path: string) => pickLocation(servers, host, path)?.target;
  it.each([
    ['shop.local', '/', 'default/web:80'],
    ['shop.local', '/api', 'default/api:80'],
    ['shop.local', '/api/', 'default/api:80'],
    ['shop.local', '/api/v1', 'default/api:80'],
    ['shop.local', '/apix', 'default/web:80'], // Prefix is element-wise
    ['shop.local', '/api/admin/x', '503'], // longest prefix wins; admin has no ready endpoint
    ['shop.local', '/exact', 'default/api:80'], // Exact beats Prefix on the same path
    ['shop.local', '/exact/x', 'default/web:80'],
    ['shop.local', '/implx', 'default/api:80'], // ImplementationSpecific: a plain string prefix
    ['a.shop.local', '/api', 'default/api:80'], // wildcard host
    ['a.b.shop.local', '/api', 'default-backend'], // one label only → default server, no /api there
    ['other.local', '/nohost/x', 'default/api:80'], // rules without a host serve every other host
    ['other.local', '/', 'default-backend'],
    ['shop.local', '/nohost', 'default/web:80'], // a named host does not fall back to host-less rules
  ])('%s%s → %s', (host, path, want) => expect(to(host, path)).toBe(want));

  it('routes to ready endpoints (pod IP and target port), not to the Service', () => {
    const { config } = render([shop]);
    expect(config).toContain('server 10.1.0.1:8080 max_fails=0;');
    expect(config).toContain('server 10.1.0.2:8080 max_fails=0;');
    expect(config).not.toContain('10.1.0.3');
    expect(config).toContain('server 10.1.0.9:9090 max_fails=0;');
  });
});

describe('conflicts, default backends and TLS', () => {
  it('lets the older Ingress keep a path both claim, and reports the newer one', () => {
    const older = ingress('a-older', '2026-01-01T00:00:00Z', [{ host: 'x.io', paths: [['/p', 'Exact', 'api']] }]);
    const newer = ingress('b-newer', '2026-02-01T00:00:00Z', [{ host: 'x.io', paths: [['/p', 'Exact', 'web']] }]);
    const r = render([newer, older]);
    expect(pickLocation(r.servers, 'x.io', '/p')?.from).toBe('default/a-older');
    expect(r.problems.get('default/b-newer')).toEqual(['path "/p" of host "x.io" is already served by default/a-older']);
  });

  it('sends unmatched requests to the Ingress defaultBackend, else to the 404 default backend', () => {
    const withDefault = ingress('d', '2026-01-01T00:00:00Z', [{ host: 'x.io', paths: [['/p', 'Exact', 'api']] }], { defaultBackend: backend('web') });
    const r = render([withDefault]);
    expect(pickLocation(r.servers, 'x.io', '/other')?.target).toBe('default/web:80');
    expect(pickLocation(r.servers, 'y.io', '/other')?.target).toBe('default/web:80');
    const none = render([]);
    expect(pickLocation(none.servers, 'y.io', '/')?.target).toBe('default-backend');
    expect(none.config).toContain('return 404 "default backend - 404\\n";');
  });

  it('answers 503 and reports a backend whose Service or port does not exist', () => {
    expect(resolveBackend('default', { service: { name: 'nope', port: { number: 80 } } }, services, slices)).toEqual({ target: 'default/nope:80', endpoints: [], problem: 'service "default/nope" not found' });
    expect(resolveBackend('default', { service: { name: 'web', port: { name: 'grpc' } } }, services, slices).problem).toBe('service "default/web" does not have port grpc');
  });

  it('skips paths the configuration cannot carry safely', () => {
    const r = render([ingress('q', '2026-01-01T00:00:00Z', [{ host: 'x.io', paths: [['/a"; evil', 'ImplementationSpecific', 'web']] }])]);
    expect(r.config).not.toContain('evil');
    expect(r.problems.get('default/q')?.[0]).toMatch(/^path "\/a\\"; evil" contains whitespace/);
  });

  it('terminates TLS for a host with its Secret\'s pair, others with the default certificate', () => {
    const tlsIng = ingress('t', '2026-01-01T00:00:00Z', [{ host: 'secure.io', paths: [['/', 'Prefix', 'web']] }], { tls: [{ hosts: ['secure.io'], secretName: 'cert' }, { hosts: ['gone.io'], secretName: 'missing' }] });
    const r = renderNginx({ ingresses: [tlsIng], services, slices, tls: new Map([['default/cert', { cert: 'CERT', key: 'KEY' }]]), confDir: '/c', healthPort: 1 });
    expect(r.files).toEqual({ 'tls-default_cert.pem': 'CERT\nKEY\n' });
    expect(r.config).toMatch(/server_name secure\.io;\n\s+ssl_certificate \/c\/tls-default_cert\.pem;/);
    expect(r.config).toMatch(/server_name _;\n\s+ssl_certificate \/c\/default-fake-certificate\.pem;/);
    expect(r.problems.get('default/t')).toEqual(['TLS secret "default/missing" is missing or not a valid kubernetes.io/tls secret; its hosts get the default certificate']);
  });

  it('reports ingress-nginx annotations it does not implement', () => {
    const a = ingress('a', '2026-01-01T00:00:00Z', [{ host: 'a.io', paths: [['/', 'Prefix', 'web']] }]);
    a.metadata = { ...a.metadata, annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } };
    expect(render([a]).problems.get('default/a')).toEqual(["annotation nginx.ingress.kubernetes.io/rewrite-target is not supported by minikube-lite's ingress controller; ignored"]);
  });

  it('renders the same text (and hash) for the same objects in any order', () => {
    const a = ingress('a', '2026-01-01T00:00:00Z', [{ host: 'a.io', paths: [['/', 'Prefix', 'web']] }]);
    const b = ingress('b', '2026-01-01T00:00:00Z', [{ host: 'b.io', paths: [['/', 'Prefix', 'api']] }]);
    expect(render([a, b]).hash).toBe(render([b, a]).hash);
  });
});

describe('the controller\'s TLS Secrets and addon objects', async () => {
  const { tlsPairOf, addonObjects } = await import('../../src/controllers/ingress.js');
  const { selfSignedCertificate } = await import('../../src/apiserver/tls.js');
  const a = await selfSignedCertificate({ hosts: ['a.io'] });
  const b = await selfSignedCertificate({ hosts: ['b.io'] });
  const secret = (cert: string, key: string, type = 'kubernetes.io/tls') => ({
    metadata: { name: 's', namespace: 'default' }, type,
    data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
  });

  it('uses a kubernetes.io/tls Secret only when its key matches its certificate', () => {
    expect(tlsPairOf(secret(a.cert, a.key))).toEqual({ cert: a.cert, key: a.key });
    expect(tlsPairOf(secret(a.cert, b.key))).toBeUndefined();
    expect(tlsPairOf(secret('not a certificate', a.key))).toBeUndefined();
    expect(tlsPairOf(secret(a.cert, a.key, 'Opaque'))).toBeUndefined();
    expect(tlsPairOf(undefined)).toBeUndefined();
  });

  it('runs nginx with the rendered configuration from a read-only hostPath, behind a LoadBalancer Service on the given ports', () => {
    const o = addonObjects({ confDir: '/h/ingress-nginx', httpPort: 38080, httpsPort: 38443 });
    const pod = o.deployment.spec?.template.spec;
    expect(pod?.containers[0].command).toEqual(['nginx', '-c', '/etc/ingress-nginx/nginx.conf', '-g', 'daemon off;']);
    expect(pod?.volumes).toEqual([{ name: 'config', hostPath: { path: '/h/ingress-nginx', type: 'Directory' } }]);
    expect(pod?.containers[0].volumeMounts).toEqual([{ name: 'config', mountPath: '/etc/ingress-nginx', readOnly: true }]);
    expect(o.service.spec?.type).toBe('LoadBalancer');
    expect(o.service.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([['http', 38080, 'http'], ['https', 38443, 'https']]);
    expect(o.ingressClass.metadata?.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
    expect(o.ingressClass.spec?.controller).toBe('k8s.io/ingress-nginx');
  });
});
