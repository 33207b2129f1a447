/**
 * Services on a real Docker engine, through the service proxy's iptables rules: a ClusterIP
 * spreads over every ready replica from pods on both nodes, survives a replica being replaced,
 * refuses at once when nothing is ready, drops unready pods; hairpin and ClientIP affinity;
 * NodePort and LoadBalancer from the host; the `kubernetes` Service from a pod; the guard
 * (an unused VIP or pod IP fails at once, never leaves the machine); two clusters side by side;
 * and `down` (also after a crashed proxy) leaves no rule, chain, route, process or container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice, Pod, Service } from '../../src/api/types.js';
import { ENDPOINTSLICES, PODS, SERVICES } from '../../src/client/client.js';
import { chainPrefix } from '../../src/proxy/plan.js';
import { queryDns } from '../../src/dns/client.js';
import { readClusterConfig, clusterDir } from '../../src/cli/context.js';
import { alive, readPid } from '../../src/cli/processes.js';
import { ROOT, TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ns = 'default';

/** myapp, as examples/myapp-deployment.yaml, but each replica serves its own name at /host.txt. */
const myapp = (replicas: number) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'myapp', labels: { app: 'myapp' } },
  spec: {
    replicas, selector: { matchLabels: { app: 'myapp' } },
    template: {
      metadata: { labels: { app: 'myapp' } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [{
          name: 'web', image: 'nginx:latest', ports: [{ containerPort: 80, name: 'http' }],
          command: ['sh', '-c', 'hostname > /usr/share/nginx/html/host.txt && exec nginx -g "daemon off;"'],
          readinessProbe: { httpGet: { path: '/host.txt', port: 80 }, periodSeconds: 1, failureThreshold: 1 },
        }],
      },
    },
  },
});

/** A busybox pod pinned to a node, to send requests from. */
const client = (name: string, node: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { role: 'client' } },
  spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'bb', image: 'busybox:latest', command: ['sleep', '3600'] }] },
});

/** A busybox web server answering its own name on :8080 (hairpin test: a pod behind its own Service). */
const echo = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo', labels: { app: 'echo' } },
  spec: {
    nodeName: 'node-1', terminationGracePeriodSeconds: 0,
    containers: [{ name: 'bb', image: 'busybox:latest', ports: [{ containerPort: 8080 }],
      command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
  },
};

const apply = async (c: TestCluster, objs: unknown[]) => {
  const r = await c.cli(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n---\n') });
  expect(r.code, r.stderr).toBe(0);
};

/** Runs `script` in a pod with sh; its stdout. */
async function inPod(c: TestCluster, pod: string, script: string, timeoutMs = 120_000): Promise<string> {
  const r = await c.cli(['exec', pod, '--', 'sh', '-c', script], { timeoutMs });
  return r.stdout + r.stderr;
}

/** `n` GETs of url/host.txt from a pod: one line per request, the responder's name or FAIL. */
async function requests(c: TestCluster, pod: string, url: string, n: number): Promise<string[]> {
  const out = await inPod(c, pod, `for i in $(seq ${n}); do timeout 3 wget -qO- ${url} 2>/dev/null || echo FAIL; done`);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Milliseconds a TCP connect from the host takes to fail (or succeed), and how. */
function connectFromHost(host: string, port: number): Promise<{ ms: number; result: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 5000 });
    const done = (result: string) => { s.destroy(); resolve({ ms: performance.now() - t0, result }); };
    s.once('connect', () => done('connected'));
    s.once('timeout', () => done('timeout'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** A connect from inside a pod: the error text and the elapsed ms (from /proc/uptime, 10 ms ticks). */
async function connectFromPod(c: TestCluster, pod: string, host: string, port: number): Promise<{ ms: number; out: string }> {
  const out = await inPod(c, pod, `s=$(cut -d' ' -f1 /proc/uptime); timeout 5 nc -w 4 ${host} ${port} </dev/null 2>&1; echo "rc=$?"; e=$(cut -d' ' -f1 /proc/uptime); echo "ms=$(awk "BEGIN{print int(($e-$s)*1000)}")"`);
  return { ms: Number(/ms=(\d+)/.exec(out)?.[1] ?? 'NaN'), out };
}

/** Waits on the watch until the Service's EndpointSlices satisfy `ok` (given all their endpoints). */
async function waitForSlices(c: TestCluster, service: string, ok: (eps: NonNullable<EndpointSlice['endpoints']>) => boolean, ms = 60_000): Promise<void> {
  const api = c.client();
  const ref = { ...ENDPOINTSLICES, namespace: ns };
  const sel = `kubernetes.io/service-name=${service}`;
  const list = await api.list<EndpointSlice>(ref, { labelSelector: sel });
  const cache = new Map(list.items.map((s) => [s.metadata?.name ?? '', s]));
  const check = () => ok([...cache.values()].flatMap((s) => s.endpoints ?? []));
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      h.stop();
      void diagnose(c).then((d) => reject(new Error(`timed out waiting for the endpoints of ${service}: ${JSON.stringify([...cache.values()].map((s) => s.endpoints))}\n${d}`)));
    }, ms);
    const h = api.watch<EndpointSlice>(ref, { labelSelector: sel, resourceVersion: list.metadata.resourceVersion }, (e) => {
      if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') cache.delete(e.object.metadata?.name ?? '');
      else cache.set(e.object.metadata?.name ?? '', e.object);
      if (check()) { clearTimeout(timer); h.stop(); resolve(); }
    });
    h.done.catch((err: unknown) => { clearTimeout(timer); reject(err as Error); });
  });
}

/** Pods and the control plane's log tail, for a failure message. */
async function diagnose(c: TestCluster): Promise<string> {
  const pods = await c.cli(['get', 'pods', '-o', 'wide']);
  const log = readFileSync(join(clusterDir(c.home, c.name), 'controlplane.log'), 'utf8').split('\n').slice(-30).join('\n');
  return `${pods.stdout}\ncontrolplane.log:\n${log}`;
}

/** Copies the cluster's component logs to <tmp>/mkl-e2e-logs/<name>/ (they outlive `down`, for a post-mortem). */
function saveLogs(c: TestCluster): void {
  const dir = clusterDir(c.home, c.name);
  if (!existsSync(dir)) return;
  const logs = join(tmpdir(), 'mkl-e2e-logs', c.name);
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.log'))) copyFileSync(join(dir, f), join(logs, f));
}

const readyIPs = (eps: NonNullable<EndpointSlice['endpoints']>) => eps.filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0]);

/**
 * Retries a request from the host until it answers (the proxy programs rules within
 * milliseconds of the slice; no watch reports "programmed"), bounded by `ms`.
 */
async function untilAnswers(url: string, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await sh('curl', ['-s', '-m', '2', url]);
    if (r.code === 0 && r.stdout) return r.stdout.trim();
    if (Date.now() > deadline) throw new Error(`${url} did not answer: curl exit ${r.code}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** This cluster's traces on the host: iptables lines naming it or its chains, and routes of its CIDRs. */
async function hostTraces(c: TestCluster, serviceCIDR: string): Promise<string[]> {
  const prefix = chainPrefix(c.name);
  const save = (await sh('iptables-save', [])).stdout.split('\n');
  const mine = new RegExp(`minikube-lite:${c.name}(:|"|\\s|$)`);
  const rules = save.filter((l) => l.includes(prefix) || mine.test(l));
  const routes = (await sh('ip', ['route', 'show'])).stdout.split('\n').filter((l) => l.includes(serviceCIDR) || l.includes(c.podCIDR));
  return [...rules, ...routes];
}

describe.skipIf(!hasDocker)('Services on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const a = new TestCluster('e2e-svcp-a', '10.212.0.0/16');
  const b = new TestCluster('e2e-svcp-b', '10.213.0.0/16');
  const svcA = '10.112.0.0/16';
  const svcB = '10.113.0.0/16';
  let vip = '';
  let pids: number[] = [];

  const clusterIP = async (c: TestCluster, name: string) => (await c.client().get<Service>({ ...SERVICES, namespace: ns }, name)).spec?.clusterIP ?? '';
  const podNames = async (c: TestCluster) => (await c.client().list<Pod>({ ...PODS, namespace: ns }, { labelSelector: 'app=myapp' })).items
    .filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '');

  beforeAll(async () => {
    for (const c of [a, b]) await c.destroy().catch(() => undefined);
    const r = await a.cli(['up', '--pod-cidr', a.podCIDR, '--service-cidr', svcA]);
    expect(r.code, r.stderr).toBe(0);
    await apply(a, [client('bb1', 'node-1'), client('bb2', 'node-2'), myapp(3)]);
    const exposed = await a.cli(['expose', 'deployment', 'myapp', '--port', '80']);
    expect(exposed.code, exposed.stderr).toBe(0);
    await a.waitForPod('bb1', (p) => p.status?.phase === 'Running');
    await a.waitForPod('bb2', (p) => p.status?.phase === 'Running');
    await waitForSlices(a, 'myapp', (eps) => readyIPs(eps).length === 3);
    vip = await clusterIP(a, 'myapp');
  }, 180_000);

  afterAll(async () => {
    for (const c of [a, b]) {
      saveLogs(c);
      await c.destroy();
    }
  }, 120_000);

  it('gives myapp a ClusterIP in the service CIDR and its Endpoints the 3 ready pod IPs', async () => {
    expect(vip).toMatch(/^10\.112\.\d+\.\d+$/);
    const r = await a.cli(['get', 'endpoints', 'myapp']);
    expect(r.stdout.split('\n')[1].split(/\s+/)[1].split(',')).toHaveLength(3);
  });

  it('spreads requests to the ClusterIP over all 3 replicas, from pods on both nodes', async () => {
    const names = await podNames(a);
    for (const from of ['bb1', 'bb2']) {
      const answers = await requests(a, from, `http://${vip}/host.txt`, 60);
      const counts = Object.fromEntries(names.map((n) => [n, answers.filter((x) => x === n).length]));
      console.log(`60 requests from ${from}: ${JSON.stringify(counts)}, failed ${answers.filter((x) => x === 'FAIL').length}`);
      expect(answers).toHaveLength(60);
      expect(answers.filter((x) => !names.includes(x))).toEqual([]);
      expect(Object.values(counts).every((n) => n > 0)).toBe(true);
    }
  }, 120_000);

  it('answers by name from a debug pod, as the README shows (cluster DNS + the proxy)', async () => {
    const names = await podNames(a);
    for (const url of ['http://myapp/host.txt', 'http://myapp.default.svc.cluster.local/host.txt']) {
      const r = await a.cli(['debug', '--', 'wget', '-qO-', url], { timeoutMs: 90_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(names).toContain(r.stdout.trim());
    }
  }, 120_000);

  it('keeps answering while a replica is replaced: no failure once the replacement is Ready', async () => {
    const before = await podNames(a);
    const victim = before[0];
    const loop = requests(a, 'bb1', `http://${vip}/host.txt`, 150);
    await new Promise((r) => setTimeout(r, 300));
    const del = await a.cli(['delete', 'pod', victim]);
    expect(del.code, del.stderr).toBe(0);
    const during = await loop;
    await waitForSlices(a, 'myapp', (eps) => readyIPs(eps).length === 3 && eps.every((e) => e.targetRef?.name !== victim));
    const after = await requests(a, 'bb2', `http://${vip}/host.txt`, 60);
    console.log(`replacing ${victim}: ${during.filter((x) => x === 'FAIL').length} of ${during.length} requests failed during the change; ` +
      `${after.filter((x) => x === 'FAIL').length} of ${after.length} after the replacement was Ready`);
    expect(after.filter((x) => x === 'FAIL')).toEqual([]);
    expect(after).not.toContain(victim);
  }, 180_000);

  it('takes a pod whose readiness probe fails out of rotation', async () => {
    const [sick] = await podNames(a);
    await inPod(a, sick, 'rm /usr/share/nginx/html/host.txt');
    await waitForSlices(a, 'myapp', (eps) => eps.some((e) => e.targetRef?.name === sick && e.conditions?.ready === false));
    const answers = await requests(a, 'bb1', `http://${vip}/host.txt`, 40);
    expect(answers.filter((x) => x === 'FAIL' || x === sick)).toEqual([]);
    await inPod(a, sick, 'hostname > /usr/share/nginx/html/host.txt');
    await waitForSlices(a, 'myapp', (eps) => readyIPs(eps).length === 3);
  }, 120_000);

  it('lets a pod reach itself through its own Service (hairpin)', async () => {
    await apply(a, [echo, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] } }]);
    await waitForSlices(a, 'echo', (eps) => readyIPs(eps).length === 1);
    const ip = await clusterIP(a, 'echo');
    await untilAnswers(`http://${ip}/`);
    const out = await inPod(a, 'echo', `timeout 3 wget -qO- http://${ip}/`);
    expect(out.trim()).toBe('echo');
  }, 120_000);

  it('keeps a client on one replica with sessionAffinity ClientIP', async () => {
    await apply(a, [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'sticky' },
      spec: { selector: { app: 'myapp' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 'http' }] } }]);
    await waitForSlices(a, 'sticky', (eps) => readyIPs(eps).length === 3);
    const ip = await clusterIP(a, 'sticky');
    await untilAnswers(`http://${ip}/host.txt`);
    const answers = await requests(a, 'bb2', `http://${ip}/host.txt`, 20);
    expect(new Set(answers).size, answers.join(' ')).toBe(1);
    expect(answers[0]).not.toBe('FAIL');
  }, 120_000);

  it('serves NodePort and LoadBalancer Services on 127.0.0.1, and service --url prints them', async () => {
    const np = await a.cli(['apply', '-f', join(ROOT, 'examples/myapp-nodeport.yaml')]);
    const lb = await a.cli(['apply', '-f', join(ROOT, 'examples/myapp-loadbalancer.yaml')]);
    expect(np.code + lb.code, np.stderr + lb.stderr).toBe(0);
    const names = await podNames(a);
    for (const svc of ['myapp-nodeport', 'myapp-lb']) {
      const url = (await a.cli(['service', svc, '--url'])).stdout.trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(names).toContain(await untilAnswers(`${url}/host.txt`));
    }
    const lbSvc = await a.client().get<Service>({ ...SERVICES, namespace: ns }, 'myapp-lb');
    expect(lbSvc.status?.loadBalancer?.ingress?.[0]?.ip).toBe('127.0.0.1');
    // The plain ClusterIP Service too, through its loopback relay.
    const url = (await a.cli(['service', 'myapp', '--url'])).stdout.trim();
    expect(names).toContain(await untilAnswers(`${url}/host.txt`));
  }, 60_000);

  it('relays a UDP NodePort from the host (cluster DNS behind a selector-less NodePort Service)', async () => {
    await apply(a, [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dns-np' }, spec: { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'dns-np-1', labels: { 'kubernetes.io/service-name': 'dns-np' } },
        addressType: 'IPv4', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
        // Where the cluster DNS process listens: this host's address on node-1's network.
        endpoints: [{ addresses: [a.podCIDR.replace(/\.0\.0\/16$/, '.1.1')], conditions: { ready: true } }] },
    ]);
    const svc = await a.client().get<Service>({ ...SERVICES, namespace: ns }, 'dns-np');
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    const deadline = Date.now() + 10_000;
    let answer: string | undefined;
    while (!answer && Date.now() < deadline) {
      const reply = await queryDns('127.0.0.1', nodePort, 'myapp.default.svc.cluster.local', { timeoutMs: 500 }).catch(() => undefined);
      const a = reply?.answers?.find((x) => x.type === 'A');
      answer = a && 'data' in a ? String(a.data) : undefined;
    }
    expect(answer).toBe(vip);
  }, 60_000);

  it('reaches the API server from a pod through the kubernetes Service', async () => {
    const ip = await clusterIP(a, 'kubernetes');
    expect(ip).toBe('10.112.0.1');
    const fromHost = await sh('curl', ['-sk', '-m', '3', `https://${ip}/api`]);
    expect(fromHost.stdout).toMatch(/"kind":\s*"(APIVersions|Status)"/);
    const out = await inPod(a, 'bb1', `timeout 3 nc -w 2 ${ip} 443 </dev/null; echo "rc=$?"; timeout 3 wget --no-check-certificate -qO- https://kubernetes.default.svc/ 2>&1 | head -c 200; timeout 3 wget --no-check-certificate -qO- https://${ip}/api 2>&1 | head -c 200`);
    console.log(`kubernetes Service from a pod: ${out.replace(/\n/g, ' | ')}`);
    expect(out).toContain('rc=0');
    // TLS through the Service to the API server itself: it answers (401 without a token), by
    // name and by ClusterIP, with BusyBox's TLS client.
    expect(out.match(/HTTP\/1\.1 401 Unauthorized/g)?.length).toBe(2);
  }, 60_000);

  it('refuses at once when no replica is ready (scaled to 0)', async () => {
    const r = await a.cli(['scale', 'deployment', 'myapp', '--replicas=0']);
    expect(r.code, r.stderr).toBe(0);
    // Terminating pods still serve (kube-proxy falls back to serving terminating endpoints): wait until they are gone.
    await waitForSlices(a, 'myapp', (eps) => eps.length === 0);
    await new Promise((res) => setTimeout(res, 200));
    const host = await connectFromHost(vip, 80);
    const pod = await connectFromPod(a, 'bb1', vip, 80);
    console.log(`scaled to 0: host connect ${host.result} in ${host.ms.toFixed(0)} ms; pod: ${pod.out.replace(/\n/g, ' ')}`);
    expect(host.result).toBe('ECONNREFUSED');
    expect(host.ms).toBeLessThan(1000);
    expect(pod.out).toMatch(/Connection refused/);
    expect(pod.ms).toBeLessThan(1000);
    await a.cli(['scale', 'deployment', 'myapp', '--replicas=3']);
  }, 60_000);

  it('fails at once for an unused VIP and an unused pod IP, never routing them out', async () => {
    const unusedVip = '10.112.255.254';
    const unusedPodIP = '10.212.200.9';
    const h1 = await connectFromHost(unusedVip, 80);
    const h2 = await connectFromHost(unusedPodIP, 80);
    const p1 = await connectFromPod(a, 'bb2', unusedVip, 80);
    const p2 = await connectFromPod(a, 'bb2', unusedPodIP, 80);
    console.log(`unused VIP: host ${h1.result} ${h1.ms.toFixed(0)} ms, pod ${p1.ms} ms; unused pod IP: host ${h2.result} ${h2.ms.toFixed(0)} ms, pod ${p2.ms} ms (${p2.out.replace(/\n/g, ' ')})`);
    expect(h1.result).toBe('ECONNREFUSED');
    expect(h2.result).toBe('EHOSTUNREACH');
    expect(Math.max(h1.ms, h2.ms)).toBeLessThan(1000);
    expect(p1.out).toMatch(/Connection refused/);
    expect(p2.out).toMatch(/No route to host|unreachable/i);
    expect(p1.ms).toBeLessThan(1000);
    // The host answers a pod with ICMP, which the kernel rate-limits per destination (1/s).
    expect(p2.ms).toBeLessThan(2500);
  }, 60_000);

  it('runs two clusters side by side, each routing only to its own pods; down of one leaves the other', async () => {
    const r = await b.cli(['up', '--pod-cidr', b.podCIDR, '--service-cidr', svcB, '--listen-address', '127.0.0.2']);
    expect(r.code, r.stderr).toBe(0);
    await apply(b, [client('bb1', 'node-1'), myapp(2)]);
    expect((await b.cli(['expose', 'deployment', 'myapp', '--port', '80'])).code).toBe(0);
    await b.waitForPod('bb1', (p) => p.status?.phase === 'Running');
    await waitForSlices(b, 'myapp', (eps) => readyIPs(eps).length === 2);
    const vipB = await clusterIP(b, 'myapp');
    expect(vipB).toMatch(/^10\.113\./);
    await waitForSlices(a, 'myapp', (eps) => readyIPs(eps).length === 3);
    const namesA = await podNames(a);
    const namesB = await podNames(b);
    const fromA = await requests(a, 'bb1', `http://${vip}/host.txt`, 20);
    const fromB = await requests(b, 'bb1', `http://${vipB}/host.txt`, 20);
    expect(fromA.filter((x) => !namesA.includes(x))).toEqual([]);
    expect(fromB.filter((x) => !namesB.includes(x))).toEqual([]);
    // B serves its NodePorts on its --listen-address only.
    expect((await b.cli(['apply', '-f', join(ROOT, 'examples/myapp-nodeport.yaml')])).code).toBe(0);
    const urlB = (await b.cli(['service', 'myapp-nodeport', '--url'])).stdout.trim();
    expect(urlB).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    expect(namesB).toContain(await untilAnswers(`${urlB}/host.txt`));
    expect((await connectFromHost('127.0.0.1', Number(new URL(urlB).port))).result).toBe('ECONNREFUSED');
    const bTraces = await hostTraces(b, svcB);
    expect(bTraces.some((l) => l.includes(chainPrefix(a.name)))).toBe(false);
    // A crashed proxy is restarted by `up`; then `down` still removes everything it made.
    const dirB = clusterDir(b.home, b.name);
    const proxyB = readPid(dirB, 'proxy');
    expect(proxyB).toBeDefined();
    process.kill(proxyB ?? 0, 'SIGKILL');
    pids = [readPid(dirB, 'controlplane'), readPid(dirB, 'kubelet-node-1'), readPid(dirB, 'kubelet-node-2'), proxyB].filter((p): p is number => p !== undefined);
    saveLogs(b);
    const downB = await b.cli(['down']);
    expect(downB.code, downB.stderr).toBe(0);
    expect(await hostTraces(b, svcB)).toEqual([]);
    expect(pids.filter((p) => alive(p))).toEqual([]);
    expect(await b.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    const still = await requests(a, 'bb2', `http://${vip}/host.txt`, 10);
    expect(still.filter((x) => !namesA.includes(x))).toEqual([]);
  }, 240_000);

  it('restarts a crashed proxy on up, which replaces its rules', async () => {
    const dir = clusterDir(a.home, a.name);
    const pid = readPid(dir, 'proxy');
    process.kill(pid ?? 0, 'SIGKILL');
    const up = await a.cli(['up']);
    expect(up.stdout).toMatch(/started it again/);
    expect(readPid(dir, 'proxy')).not.toBe(pid);
    const names = await podNames(a);
    expect(names).toContain(await untilAnswers(`http://${vip}/host.txt`));
  }, 60_000);

  it('down leaves no iptables rule, chain, route, process or container', async () => {
    expect((await hostTraces(a, svcA)).length).toBeGreaterThan(0);
    const cfg = readClusterConfig(a.home, a.name);
    const dir = clusterDir(a.home, a.name);
    const procs = ['controlplane', 'proxy', ...(cfg?.nodes ?? []).map((n) => `kubelet-${n}`)].map((c) => readPid(dir, c)).filter((p): p is number => p !== undefined);
    saveLogs(a);
    const r = await a.cli(['down']);
    expect(r.code, r.stderr).toBe(0);
    expect(await hostTraces(a, svcA)).toEqual([]);
    expect(procs.filter((p) => alive(p))).toEqual([]);
    expect(await a.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);
});

