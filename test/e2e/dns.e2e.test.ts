/**
 * Cluster DNS on a real Docker engine, through the real CLI: pods resolve Services by name
 * through the kube-dns ClusterIP (the proxy's DNAT to the DNS process), fetch pages by name,
 * see headless Services as pod IPs, SRV, PTR, pod and ExternalName records, get a prompt
 * NXDOMAIN for outside names, and get Kubernetes' resolv.conf, /etc/hosts and Service
 * environment variables. `down` leaves no DNS process behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from '../../src/api/types.js';
import { PODS, SERVICES } from '../../src/client/client.js';
import { clusterDir } from '../../src/cli/context.js';
import { alive, readPid } from '../../src/cli/processes.js';
import { queryDns, rcodeOf } from '../../src/dns/client.js';
import { ENDPOINTSLICES } from '../../src/dns/kubedns.js';
import { hostResolvConf } from '../../src/kubelet/dns.js';
import { dnsLookupLatency } from '../../src/dns/latency.js';
import { summarize } from '../../src/bench/stats.js';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const SERVICE_CIDR = '10.115.0.0/16';
const DNS_IP = '10.115.0.10';

const MYAPP = `
apiVersion: v1
kind: Service
metadata: {name: myapp}
spec:
  selector: {app: myapp}
  ports: [{name: http, port: 80, targetPort: 80}]
`;

describe.skipIf(!hasDocker)('cluster DNS on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-svcd-${process.pid}`, '10.215.0.0/16');
  let myappIP = '';

  /** Waits (LIST, then watch) until the Service's EndpointSlices list `n` ready addresses. */
  async function waitForEndpoints(service: string, n: number, ms = 60_000): Promise<string[]> {
    const client = cluster.client();
    const ref = { ...ENDPOINTSLICES, namespace: 'default' };
    const opts = { labelSelector: `kubernetes.io/service-name=${service}` };
    const slices = new Map<string, EndpointSlice>();
    const ready = () => [...slices.values()].flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? [])).sort();
    const list = await client.list<EndpointSlice>(ref, opts);
    for (const s of list.items) slices.set(s.metadata?.name ?? '', s);
    if (ready().length === n) return ready();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out waiting for ${n} endpoints of ${service}; have ${ready().join(' ')}`)); }, ms);
      const h = client.watch<EndpointSlice>(ref, { ...opts, resourceVersion: list.metadata.resourceVersion }, (e) => {
        if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
        if (e.type === 'DELETED') slices.delete(e.object.metadata?.name ?? '');
        else slices.set(e.object.metadata?.name ?? '', e.object);
        if (ready().length === n) { clearTimeout(timer); h.stop(); resolve(ready()); }
      });
      h.done.catch((err: unknown) => { clearTimeout(timer); reject(err as Error); });
    });
  }

  const debug = (cmd: string[]) => cluster.cli(['debug', '--', ...cmd], { timeoutMs: 90_000 });

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR, '--service-cidr', SERVICE_CIDR]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Starting cluster DNS: Service kube-system/kube-dns ${DNS_IP}`);
    // The Service first, so that myapp's containers get its environment variables.
    expect((await cluster.cli(['apply', '-f', '-'], { input: MYAPP })).code).toBe(0);
    expect((await cluster.cli(['apply', '-f', join(ROOT, 'examples/myapp-deployment.yaml')])).code).toBe(0);
    myappIP = (await cluster.client().get<Service>({ ...SERVICES, namespace: 'default' }, 'myapp')).spec?.clusterIP ?? '';
    expect(myappIP).toMatch(/^10\.115\./);
  }, 180_000);

  afterAll(async () => {
    const dir = clusterDir(cluster.home, cluster.name);
    const dnsPid = readPid(dir, 'dns');
    await cluster.destroy();
    expect(dnsPid !== undefined && alive(dnsPid)).toBe(false);
    const bound = await sh('ss', ['-Hlun', 'sport', '= :53']);
    expect(bound.stdout).not.toMatch(/10\.215\./);
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('shows the DNS process in status and the kube-dns Service with its endpoints', async () => {
    const st = await cluster.cli(['status']);
    expect(st.stdout).toMatch(new RegExp(`^DNS:\\s+Running \\(pid \\d+\\), Service kube-system/kube-dns ${DNS_IP.replace(/\./g, '\\.')} -> 10\\.215\\.1\\.1:53, 10\\.215\\.2\\.1:53`, 'm'));
    const svc = await cluster.cli(['-n', 'kube-system', 'get', 'svc', 'kube-dns']);
    expect(svc.stdout).toMatch(new RegExp(`^kube-dns\\s+ClusterIP\\s+${DNS_IP.replace(/\./g, '\\.')}\\s+<none>\\s+53/UDP,53/TCP`, 'm'));
    const eps = await cluster.client().get<EndpointSlice>({ ...ENDPOINTSLICES, namespace: 'kube-system' }, 'kube-dns');
    expect(eps.endpoints?.flatMap((e) => e.addresses)).toEqual(['10.215.1.1', '10.215.2.1']);
  });

  it('writes resolv.conf as Kubernetes does (ClusterFirst) and /etc/hosts with the pod\'s name', async () => {
    const hostSearch = hostResolvConf(readFileSync('/etc/resolv.conf', 'utf8')).searches;
    const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ...hostSearch].join(' ');
    const r = await debug(['cat', '/etc/resolv.conf']);
    expect(r.stdout).toBe(`search ${search}\nnameserver ${DNS_IP}\noptions ndots:5\n`);
    const hosts = await debug(['sh', '-c', 'cat /etc/hosts; hostname']);
    expect(hosts.stdout).toMatch(/^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    expect(hosts.stdout).toMatch(/^10\.215\.[12]\.\d+\t(debug-\w+)\n[^]*^\1$/m);
  });

  it('honours dnsPolicy Default and None with dnsConfig', async () => {
    const pod = (name: string, spec: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
${spec}
  containers: [{name: c, image: busybox:latest, command: [cat, /etc/resolv.conf]}]
`;
    const manifests = [
      pod('dns-default', '  dnsPolicy: Default'),
      pod('dns-none', '  dnsPolicy: None\n  dnsConfig: {nameservers: [1.2.3.4], searches: [ns1.svc.cluster-domain.example], options: [{name: ndots, value: "2"}, {name: edns0}]}'),
    ].join('---\n');
    expect((await cluster.cli(['apply', '-f', '-'], { input: manifests })).code).toBe(0);
    const done = (p: Pod) => p.status?.phase === 'Succeeded';
    await Promise.all([cluster.waitForPod('dns-default', done), cluster.waitForPod('dns-none', done)]);
    const host = hostResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
    const expectDefault = `${host.searches.length ? `search ${host.searches.join(' ')}\n` : ''}${host.servers.map((x) => `nameserver ${x}\n`).join('')}${host.options.length ? `options ${host.options.join(' ')}\n` : ''}`;
    expect((await cluster.cli(['logs', 'dns-default'])).stdout).toBe(expectDefault);
    expect((await cluster.cli(['logs', 'dns-none'])).stdout).toBe('search ns1.svc.cluster-domain.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n');
    const bad = await cluster.cli(['apply', '-f', '-'], { input: pod('dns-bad', '  dnsPolicy: None') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None');
  });

  it('resolves a Service by its short name with busybox nslookup, through the kube-dns ClusterIP', async () => {
    const r = await debug(['nslookup', 'myapp']);
    expect(r.stdout).toContain(`Server:\t\t${DNS_IP}`);
    expect(r.stdout).toContain(`Name:\tmyapp.default.svc.cluster.local\nAddress: ${myappIP}`);
  });

  it('fetches a page by the Service\'s short name and by its FQDN', async () => {
    await waitForEndpoints('myapp', 2, 90_000);
    for (const url of ['http://myapp/', 'http://myapp.default.svc.cluster.local/']) {
      const r = await debug(['wget', '-qO-', url]);
      expect(r.code, `${url}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('Welcome to nginx!');
    }
  }, 120_000);

  it('lists the pod IPs of a headless Service, resolves stable pod names, and gives them FQDN /etc/hosts', async () => {
    expect((await cluster.cli(['apply', '-f', join(ROOT, 'examples/dns-headless.yaml')])).code).toBe(0);
    const [db0, db1] = await Promise.all([cluster.waitForPod('db-0', isRunning), cluster.waitForPod('db-1', isRunning)]);
    const ips = await waitForEndpoints('db', 2);
    expect(ips).toEqual([db0.status?.podIP, db1.status?.podIP].sort());
    const r = await debug(['nslookup', 'db']);
    for (const ip of ips) expect(r.stdout).toContain(`Name:\tdb.default.svc.cluster.local\nAddress: ${ip}`);
    const one = await debug(['nslookup', 'db-0.db.default.svc.cluster.local']);
    expect(one.stdout).toContain(`Name:\tdb-0.db.default.svc.cluster.local\nAddress: ${db0.status?.podIP}`);
    // The libc resolver applies the search list (ndots:5) to a name with a dot, too.
    const page = await debug(['wget', '-qO-', 'http://db-1.db/']);
    expect(page.stdout).toContain('Welcome to nginx!');
    const hosts = await cluster.cli(['exec', 'db-0', '--', 'cat', '/etc/hosts']);
    expect(hosts.stdout).toContain(`${db0.status?.podIP}\tdb-0.db.default.svc.cluster.local\tdb-0\n`);
    // The example's own client pod does the same lookups and prints them.
    const client = await cluster.waitForPod('dns-client', (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed', 90_000);
    expect(client.status?.phase).toBe('Succeeded');
    const logs = await cluster.cli(['logs', 'dns-client']);
    expect(logs.stdout).toContain(`Name:\tdb-1.db.default.svc.cluster.local`);
    expect(logs.stdout).toContain('<title>Welcome to nginx!</title>');
    expect(logs.stdout).toContain(`KUBERNETES_PORT=tcp://10.115.0.1:443`);
  }, 180_000);

  it('answers SRV records for named ports (ClusterIP and headless)', async () => {
    const svc = await debug(['nslookup', '-type=srv', '_http._tcp.myapp.default.svc.cluster.local']);
    expect(svc.stdout).toContain('_http._tcp.myapp.default.svc.cluster.local\tservice = 0 100 80 myapp.default.svc.cluster.local');
    const headless = await debug(['nslookup', '-type=srv', '_http._tcp.db.default.svc.cluster.local']);
    expect(headless.stdout).toContain('service = 0 50 80 db-0.db.default.svc.cluster.local');
    expect(headless.stdout).toContain('service = 0 50 80 db-1.db.default.svc.cluster.local');
  });

  it('answers an ExternalName Service with a CNAME', async () => {
    const r = await debug(['nslookup', '-type=cname', 'db-alias.default.svc.cluster.local']);
    expect(r.stdout).toContain('db-alias.default.svc.cluster.local\tcanonical name = db.default.svc.cluster.local');
  });

  it('answers PTR for a ClusterIP and A for a pod\'s dashed-IP name', async () => {
    const ptr = await debug(['nslookup', myappIP]);
    expect(ptr.stdout).toContain(`${myappIP.split('.').reverse().join('.')}.in-addr.arpa\tname = myapp.default.svc.cluster.local`);
    const pod = (await cluster.client().list<Pod>({ ...PODS, namespace: 'default' }, { labelSelector: 'app=myapp' })).items[0];
    const ip = pod.status?.podIP ?? '';
    const r = await debug(['nslookup', `${ip.replace(/\./g, '-')}.default.pod.cluster.local`]);
    expect(r.stdout).toContain(`Address: ${ip}`);
  });

  it('answers NXDOMAIN at once for a name outside the cluster (no upstream configured)', async () => {
    const r = await debug(['sh', '-c', 'time nslookup no-such-host.example.org']);
    expect(r.stdout).toContain("** server can't find no-such-host.example.org: NXDOMAIN");
    const real = /real\s+(\d+)m\s*([\d.]+)s/.exec(r.stdout + r.stderr);
    expect(real, r.stdout + r.stderr).not.toBeNull();
    expect(Number(real?.[1]) * 60 + Number(real?.[2])).toBeLessThan(1);
  });

  it('gives containers the Service environment variables; printenv KUBERNETES_PORT prints the kubernetes Service', async () => {
    const pod = (await cluster.client().list<Pod>({ ...PODS, namespace: 'default' }, { labelSelector: 'app=myapp' })).items[0];
    const name = pod.metadata?.name ?? '';
    const port = await cluster.cli(['exec', name, '--', 'printenv', 'KUBERNETES_PORT']);
    expect(port.stdout).toBe('tcp://10.115.0.1:443\n');
    const env = await cluster.cli(['exec', name, '--', 'printenv', 'KUBERNETES_SERVICE_HOST', 'MYAPP_SERVICE_HOST', 'MYAPP_SERVICE_PORT_HTTP', 'MYAPP_PORT_80_TCP_ADDR']);
    expect(env.stdout).toBe(`10.115.0.1\n${myappIP}\n80\n${myappIP}\n`);
  });

  it('measures lookup latency from inside a pod\'s network namespace (the bench figure)', async () => {
    const pod = (await cluster.client().list<Pod>({ ...PODS, namespace: 'default' }, { labelSelector: 'app=myapp' })).items[0];
    const ids = await sh('docker', ['ps', '-q', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata?.uid}`]);
    const pid = Number((await sh('docker', ['inspect', '-f', '{{.State.Pid}}', ids.stdout.split('\n')[0]])).stdout.trim());
    expect(pid).toBeGreaterThan(0);
    const { samples, failed } = await dnsLookupLatency({ podPid: pid, server: DNS_IP, name: 'myapp.default.svc.cluster.local', count: 200 });
    expect(failed).toBe(0);
    const s = summarize(samples);
    process.stdout.write(`DNS lookup from a pod through ${DNS_IP}: n=${samples.length} p50=${s.p50.toFixed(3)} ms p99=${s.p99.toFixed(3)} ms\n`);
    expect(samples).toHaveLength(200);
  });

  it('answers over TCP as well as UDP (from the host, at the DNS process\'s address)', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const r = await queryDns('10.215.1.1', 53, 'myapp.default.svc.cluster.local', { transport });
      expect(rcodeOf(r)).toBe(0);
      expect(r.answers).toMatchObject([{ type: 'A', data: myappIP, ttl: 30 }]);
    }
  });
});
