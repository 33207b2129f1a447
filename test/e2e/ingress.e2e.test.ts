/**
 * Ingress on a real Docker engine: examples/ingress/ (two Deployments + Services + one
 * Ingress) routed by host and path from the host through the ingress controller's nginx pods;
 * Exact vs Prefix, longest prefix and wildcard-host precedence; an Ingress change taking effect
 * within a bound while a request loop runs (no failed request); TLS termination with a Secret's
 * certificate (curl --resolve --cacert); the default backend's 404 once the Ingress is gone;
 * 422s for what the API refuses; `down` leaving nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../src/api/types.js';
import type { Ingress } from '../../src/api/ingressvalidation.js';
import { PODS } from '../../src/client/client.js';
import { INGRESSES } from '../../src/controllers/ingress.js';
import { selfSignedCertificate } from '../../src/apiserver/tls.js';
import { ROOT, TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
/** How long an Ingress change may take to be served (stated in the README). */
const CHANGE_BOUND_MS = 5_000;

/** One GET from the host to 127.0.0.1:port with a Host header, on a fresh connection. */
function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The first word of a response (the app: web / api), or `<status>` for anything but 200. */
async function who(port: number, host: string, path: string): Promise<string> {
  const r = await get(port, host, path);
  return r.status === 200 ? r.body.split(' ')[0] : `${r.status} ${r.body.trim()}`;
}

/** Polls until `check` holds (the change is served), at most `ms`; returns how long it took. */
async function servedWithin(ms: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`not served within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!hasDocker)('Ingress through the ingress controller (real Docker)', () => {
  const cluster = new TestCluster(`e2e-ing-${process.pid}`, '10.243.0.0/16');
  let port = 0;
  let tlsPort = 0;

  const apply = async (objs: unknown[]) => {
    const r = await cluster.cli(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n---\n') });
    expect(r.code, r.stderr).toBe(0);
  };

  /** Waits by watch until the Ingress has a load-balancer address. */
  const addressOf = (name: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { h.stop(); reject(new Error(`ingress ${name} got no address`)); }, 60_000);
    const h = cluster.client().watch<Ingress>({ ...INGRESSES, namespace: 'default' }, { fieldSelector: `metadata.name=${name}` }, (e) => {
      const ip = e.object.status?.loadBalancer?.ingress?.[0]?.ip;
      if (e.type !== 'DELETED' && ip) {
        clearTimeout(timer);
        h.stop();
        resolve(ip);
      }
    });
  });

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR, '--service-cidr', '10.142.0.0/16']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const applied = await cluster.cli(['apply', '-f', join(ROOT, 'examples/ingress')]);
    expect(applied.code, applied.stderr).toBe(0);
    for (const [d, ns] of [['web', 'default'], ['api', 'default'], ['ingress-nginx-controller', 'ingress-nginx']]) {
      const s = await cluster.cli(['rollout', 'status', `deployment/${d}`, '-n', ns, '--timeout', '90s'], { timeoutMs: 100_000 });
      expect(s.code, s.stderr + s.stdout).toBe(0);
    }
    port = Number((await cluster.cli(['ingress', 'port'])).stdout.trim());
    tlsPort = Number((await cluster.cli(['ingress', 'port', '--tls'])).stdout.trim());
    expect(port).toBeGreaterThan(0);
    expect(tlsPort).toBeGreaterThan(0);
  }, 240_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('shows the Ingress with its class, host, address 127.0.0.1 and port, and the default IngressClass', async () => {
    expect(await addressOf('shop')).toBe('127.0.0.1');
    const ing = await cluster.cli(['get', 'ingress']);
    expect(ing.stdout).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\n/);
    expect(ing.stdout).toMatch(/\nshop\s+nginx\s+shop\.local\s+127\.0\.0\.1\s+80\s+\S+\n/);
    const cls = await cluster.cli(['get', 'ingressclass']);
    expect(cls.stdout).toMatch(/^NAME\s+CONTROLLER\s+PARAMETERS\s+AGE\n/);
    expect(cls.stdout).toMatch(/\nnginx\s+k8s\.io\/ingress-nginx\s+<none>\s+\S+\n/);
    const pods = await cluster.client().list<Pod>({ ...PODS, namespace: 'ingress-nginx' });
    expect(pods.items.map((p) => p.spec?.containers[0].image)).toEqual(['nginx']);
    const kubectl = await sh('kubectl', ['--kubeconfig', join(cluster.home, 'clusters', cluster.name, 'kubeconfig'), 'get', 'ingress', 'shop']);
    if (kubectl.code !== 127 && !/ENOENT/.test(kubectl.stderr)) {
      expect(kubectl.stdout, kubectl.stderr).toMatch(/NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nshop\s+nginx\s+shop\.local\s+127\.0\.0\.1\s+80\s/);
      // `kubectl create ingress` sends protobuf, whose IngressRule carries `http` inline.
      const kc = ['--kubeconfig', join(cluster.home, 'clusters', cluster.name, 'kubeconfig')];
      const created = await sh('kubectl', [...kc, 'create', 'ingress', 'made-by-kubectl', '--rule=made.local/=web:80']);
      expect(created.stdout, created.stderr).toContain('ingress.networking.k8s.io/made-by-kubectl created');
      const backend = await sh('kubectl', [...kc, 'get', 'ingress', 'made-by-kubectl', '-o', 'jsonpath={.spec.rules[0].http.paths[0].backend.service.name}']);
      expect(backend.stdout).toBe('web');
      expect((await sh('kubectl', [...kc, 'delete', 'ingress', 'made-by-kubectl'])).code).toBe(0);
    }
  }, 90_000);

  it('routes shop.local/ to web and shop.local/api to api from the host, over every web pod, and nothing else', async () => {
    expect(await who(port, 'shop.local', '/')).toBe('web');
    expect(await who(port, 'shop.local', '/index.html')).toBe('web');
    expect(await who(port, 'shop.local', '/api')).toBe('api');
    expect(await who(port, 'shop.local', '/api/orders/7')).toBe('api');
    expect(await who(port, 'shop.local', '/apix')).toBe('web');
    expect(await who(port, 'shop.local:80', '/api')).toBe('api');
    expect(await who(port, 'elsewhere.local', '/')).toBe('404 default backend - 404');
    // Endpoints, not the Service: both web pods answer.
    const pods = new Set<string>();
    for (let i = 0; i < 30 && pods.size < 2; i++) pods.add((await get(port, 'shop.local', '/')).body.split(' ')[1]);
    expect(pods.size).toBe(2);
    // Only on loopback: the port is not open on the cluster's bridge address.
    const bridge = await sh('curl', ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://10.243.1.1:${port}/`]);
    expect(bridge.stdout).toBe('000');
  }, 60_000);

  it('applies Kubernetes precedence: Exact over Prefix, longest prefix first, host before wildcard host', async () => {
    const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
    await apply([{
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'prec' },
      spec: {
        rules: [
          { host: 'prec.local', http: { paths: [
            { path: '/', pathType: 'Prefix', backend: backend('web') },
            { path: '/exact', pathType: 'Exact', backend: backend('api') },
            { path: '/exact', pathType: 'Prefix', backend: backend('web') },
            { path: '/a', pathType: 'Prefix', backend: backend('web') },
            { path: '/a/b', pathType: 'Prefix', backend: backend('api') },
          ] } },
          { host: '*.prec.local', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('api') }] } },
        ],
      },
    }]);
    // The Ingress had no class: the DefaultIngressClass admission gave it the default one.
    const stored = await cluster.client().get<Ingress>({ ...INGRESSES, namespace: 'default' }, 'prec');
    expect(stored.spec?.ingressClassName).toBe('nginx');
    await servedWithin(CHANGE_BOUND_MS, async () => (await who(port, 'prec.local', '/exact')) === 'api');
    const table: [string, string, string][] = [
      ['prec.local', '/exact', 'api'], // Exact beats the Prefix of the same path
      ['prec.local', '/exact/more', 'web'], // only the Prefix matches
      ['prec.local', '/a/b', 'api'], // longest prefix
      ['prec.local', '/a/b/c', 'api'],
      ['prec.local', '/a/bc', 'web'], // element-wise: /a/b does not match /a/bc
      ['prec.local', '/a', 'web'],
      ['x.prec.local', '/a/bc', 'api'], // wildcard host
      ['deep.x.prec.local', '/', '404 default backend - 404'], // a wildcard covers one label only
    ];
    const got = await Promise.all(table.map(async ([h, p]) => [h, p, await who(port, h, p)]));
    expect(got).toEqual(table);
  }, 60_000);

  it(`serves a changed Ingress within ${CHANGE_BOUND_MS} ms while a request loop runs, with no failed request`, async () => {
    let stop = false;
    const counts = { ok: 0, failed: 0, errors: [] as string[] };
    const loop = (async () => {
      while (!stop) {
        try {
          const r = await get(port, 'shop.local', '/');
          if (r.status === 200 && r.body.startsWith('web')) counts.ok++;
          else {
            counts.failed++;
            counts.errors.push(`${r.status} ${r.body.slice(0, 40)}`);
          }
        } catch (e) {
          counts.failed++;
          counts.errors.push((e as Error).message);
        }
      }
    })();
    const client = cluster.client();
    const ref = { ...INGRESSES, namespace: 'default' };
    const took: number[] = [];
    // Three changes, three reloads under load: /v2 → api, then /v3 → api, then /v2 → web.
    const paths = [['/v2', 'api'], ['/v3', 'api'], ['/v2', 'web']] as const;
    for (const [path, app] of paths) {
      const ing = await client.get<Ingress>(ref, 'shop');
      const rules = ing.spec?.rules ?? [];
      const list = (rules[0].http?.paths ?? []).filter((p) => p.path !== path);
      list.push({ path, pathType: 'Prefix', backend: { service: { name: app, port: { number: 80 } } } });
      rules[0] = { ...rules[0], http: { paths: list } };
      await client.update(ref, { ...ing, spec: { ...ing.spec, rules } });
      took.push(await servedWithin(CHANGE_BOUND_MS, async () => (await who(port, 'shop.local', `${path}/x`)) === app));
    }
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await loop;
    console.log(`ingress change → served: ${took.map((t) => `${t.toFixed(0)} ms`).join(', ')}; request loop during 3 reloads: ${counts.ok} ok, ${counts.failed} failed`);
    expect(counts.ok).toBeGreaterThan(20);
    expect(counts.errors).toEqual([]);
  }, 60_000);

  it('terminates TLS for a host with its kubernetes.io/tls Secret (curl --resolve --cacert)', async () => {
    const { cert, key } = await selfSignedCertificate({ hosts: ['secure.local'], commonName: 'secure.local' });
    const crt = join(cluster.home, 'secure.crt');
    const keyPath = join(cluster.home, 'secure.key');
    writeFileSync(crt, cert);
    writeFileSync(keyPath, key);
    expect((await cluster.cli(['create', 'secret', 'tls', 'secure-tls', `--cert=${crt}`, `--key=${keyPath}`])).code).toBe(0);
    const created = await cluster.cli(['create', 'ingress', 'secure', '--class=nginx', '--rule=secure.local/*=web:80,tls=secure-tls']);
    expect(created.stdout, created.stderr).toBe('ingress.networking.k8s.io/secure created\n');
    const curl = (extra: string[]) => sh('curl', ['-sS', '-m', '3', '--resolve', `secure.local:${tlsPort}:127.0.0.1`, '--cacert', crt, ...extra, `https://secure.local:${tlsPort}/hello`]);
    await servedWithin(CHANGE_BOUND_MS, async () => (await curl([])).stdout.startsWith('web'));
    const r = await curl(['-w', '\n%{http_code} %{ssl_verify_result}']);
    expect(r.stdout).toMatch(/^web \S+ \/hello\n\n200 0$/);
    // The certificate nginx presents for secure.local is the Secret's (issuer = its own CN).
    const verbose = await curl(['-v', '-o', '/dev/null']);
    expect(verbose.stderr).toMatch(/subject: CN=secure\.local/);
    expect((await cluster.cli(['get', 'ingress', 'secure'])).stdout).toMatch(/secure\s+nginx\s+secure\.local\s+\S*\s+80, 443\s/);
    // A host without its own certificate gets the controller's default one, which this CA does not trust.
    const other = await sh('curl', ['-sS', '-m', '3', '--resolve', `shop.local:${tlsPort}:127.0.0.1`, '--cacert', crt, `https://shop.local:${tlsPort}/`]);
    expect(other.code).not.toBe(0);
  }, 60_000);

  it('refuses what the API does not accept with 422 and the field path', async () => {
    const bad = (spec: unknown) => cluster.cli(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'bad' }, spec }) });
    const resource = await bad({ defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } } });
    expect(resource.code).not.toBe(0);
    expect(resource.stderr).toContain('spec.defaultBackend.resource: Forbidden: resource backends are not supported by minikube-lite');
    const noType = await bad({ rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] });
    expect(noType.stderr).toContain('spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified');
    const relative = await bad({ rules: [{ host: '*.a.b', http: { paths: [{ path: 'api', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] });
    expect(relative.stderr).toContain('spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path');
  }, 30_000);

  it('answers with the default backend 404 once the Ingress is deleted', async () => {
    await cluster.client().delete({ ...INGRESSES, namespace: 'default' }, 'shop');
    const ms = await servedWithin(CHANGE_BOUND_MS, async () => (await who(port, 'shop.local', '/api')) === '404 default backend - 404');
    console.log(`ingress deleted → default backend 404 after ${ms.toFixed(0)} ms`);
  }, 30_000);
  it('runs the Kubernetes documentation\'s Ingress examples (fanout, virtual hosts, wildcard, default backend; resource backend refused)', async () => {
    const docs = (f: string) => join(ROOT, 'examples/k8s-docs', f);
    expect((await cluster.cli(['apply', '-f', docs('ingress-backends.yaml')])).code).toBe(0);
    const ready = await cluster.cli(['rollout', 'status', 'deployment/docs-backends', '--timeout', '90s'], { timeoutMs: 100_000 });
    expect(ready.code, ready.stderr).toBe(0);
    const examples: [string, string, [string, string, string][]][] = [
      ['ingress-simple-fanout.yaml', 'simple-fanout-example', [['foo.bar.com', '/foo', 'service1'], ['foo.bar.com', '/bar/x', 'service2'], ['foo.bar.com', '/baz', '404 default backend - 404']]],
      ['ingress-name-virtual-host.yaml', 'name-virtual-host-ingress-no-third-host', [['first.bar.com', '/', 'service1'], ['second.bar.com', '/a', 'service2'],
        ['third.bar.com', '/', '503 503 Service Temporarily Unavailable']]], // service3 does not exist
      ['ingress-wildcard-host.yaml', 'ingress-wildcard-host', [['foo.bar.com', '/bar', 'service1'], ['baz.foo.com', '/foo', 'service2'], ['foo.com', '/foo', '404 default backend - 404']]],
      ['ingress-default-backend.yaml', 'test-ingress', [['anything.local', '/x', 'test']]],
    ];
    for (const [file, name, table] of examples) {
      const r = await cluster.cli(['apply', '-f', docs(file)]);
      expect(r.code, r.stderr).toBe(0);
      // Every row served, three polls in a row: right after a graceful reload, nginx workers of the
      // previous configuration can still take a connection or two (they share the listening socket).
      let inARow = 0;
      await servedWithin(CHANGE_BOUND_MS, async () => {
        const all = (await Promise.all(table.map(async ([h, p, want]) => (await who(port, h, p)) === want))).every(Boolean);
        inARow = all ? inARow + 1 : 0;
        return inARow >= 3;
      });
      const got = await Promise.all(table.map(async ([h, p]) => [h, p, await who(port, h, p)]));
      expect(got, file).toEqual(table);
      expect((await cluster.cli(['delete', 'ingress', name])).code).toBe(0);
    }
    const refused = await cluster.cli(['apply', '-f', docs('ingress-resource-backend.yaml')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('resource backends are not supported by minikube-lite');
  }, 150_000);
});
