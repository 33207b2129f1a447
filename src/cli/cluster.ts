/**
 * `up`, `down` and `status`: the life of a cluster on this machine. A cluster is a control-plane
 * process, one kubelet process per node, one Docker network per node (its pod subnet), and a
 * client config under `<home>/clusters/<name>/`. Everything in Docker carries the label
 * `minikube-lite.cluster=<name>`, which is how `down` finds it all.
 */
import { randomBytes } from 'node:crypto';
import yaml from 'js-yaml';
import { mkdirSync, rmSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedCertificate } from '../apiserver/tls.js';
import { generateSigningKey, SERVICE_ACCOUNT_KEY_FILE } from '../apiserver/auth/signingkey.js';
import { createServer } from 'node:net';
import type { Node } from '../api/types.js';
import { LABEL_CLUSTER, LABEL_NODE } from '../api/types.js';
import { ApiClient, NODES } from '../client/client.js';
import { DockerRuntime } from '../runtime/docker.js';
import { RuntimeError, type Runtime } from '../runtime/types.js';
import { nodeRow } from '../api/podstatus.js';
import { CliError, clusterDir, dockerSocket, readClusterConfig, writeClusterConfig, type ClusterConfig, type GlobalOptions } from './context.js';
import { alive, lockHolder, logFile, spawnComponent, stopClusterProcesses, stopComponent, tokenFile, writeTokenFile } from './processes.js';
import { checkStoreFile } from '../store/sqlite.js';
import { clusterDnsIP, DNS_PORT } from '../dns/kubedns.js';
import { queryDns, rcodeOf } from '../dns/client.js';
import { DEFAULT_DOMAIN } from '../dns/records.js';

/** The service CIDR of a cluster whose config does not name one. */
const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';
/** `10.244.1.0/24` → `10.244.1.1`: a node network's gateway, this host's address on it. */
const nodeGateway = (cidr: string): string => cidr.replace(/\.0\/24$/, '.1');

export interface UpOptions {
  nodes: number;
  nodeLabels: string[];
  port?: number;
  podCidr?: string;
  /** `--service-cidr`; default 10.96.0.0/16, or the next free /16 when another cluster uses it. */
  serviceCidr?: string;
  /** `--listen-address` for NodePorts and LoadBalancer ports (default 127.0.0.1). */
  listenAddress?: string;
  nodeCpu?: string;
  nodeMemory?: string;
  /** Maximum time to wait for readiness, ms. */
  waitMs: number;
  /** Extra arguments for the control-plane process (e.g. controller timings). */
  controlPlaneArgs?: string[];
  /** Extra arguments for every kubelet process (e.g. back-off timings). */
  kubeletArgs?: string[];
  /** Resolver the cluster DNS forwards outside names to, `IP[:port]` (default: none, NXDOMAIN). */
  upstreamDns?: string;
  /** Ports of the ingress controller on the listen address (default: free ports, kept across restarts). */
  ingressPort?: number;
  ingressTlsPort?: number;
}

type Out = (line: string) => void;

/** `node-2:gpu=true,zone=a` (repeatable) → { 'node-2': { gpu: 'true', zone: 'a' } } */
export function parseNodeLabels(specs: string[], nodes: string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const spec of specs) {
    const i = spec.indexOf(':');
    if (i <= 0) throw new CliError(`invalid --node-labels "${spec}": expected NODE:KEY=VALUE[,KEY=VALUE…], e.g. node-2:gpu=true`);
    const node = spec.slice(0, i);
    if (!nodes.includes(node)) throw new CliError(`invalid --node-labels "${spec}": no node "${node}" (nodes: ${nodes.join(', ')})`);
    for (const kv of spec.slice(i + 1).split(',')) {
      const j = kv.indexOf('=');
      if (j <= 0) throw new CliError(`invalid --node-labels "${spec}": "${kv}" is not KEY=VALUE`);
      (out[node] ??= {})[kv.slice(0, j)] = kv.slice(j + 1);
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

const ipToInt = (ip: string) => ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
function overlaps(a: string, b: string): boolean {
  const [ia, la] = a.split('/');
  const [ib, lb] = b.split('/');
  const len = Math.min(Number(la), Number(lb));
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((ipToInt(ia) & mask) >>> 0) === ((ipToInt(ib) & mask) >>> 0);
}

/** First `10.X.0.0/16` (X = 244…254, then 200…243) that no Docker network or other cluster uses. */
async function choosePodCIDR(runtime: Runtime, home: string, requested?: string): Promise<string> {
  const used = (await runtime.listNetworks({})).map((n) => n.subnet).filter(Boolean);
  if (requested) {
    if (!/^\d+\.\d+\.0\.0\/16$/.test(requested)) throw new CliError(`invalid --pod-cidr "${requested}": expected a /16 such as 10.244.0.0/16`);
    const clash = used.find((u) => overlaps(u, requested));
    if (clash) throw new CliError(`--pod-cidr ${requested} overlaps the Docker network subnet ${clash}`);
    return requested;
  }
  void home;
  for (const x of [...Array.from({ length: 11 }, (_, i) => 244 + i), ...Array.from({ length: 44 }, (_, i) => 200 + i)]) {
    const cidr = `10.${x}.0.0/16`;
    if (!used.some((u) => overlaps(u, cidr))) return cidr;
  }
  throw new CliError('no free 10.x.0.0/16 pod subnet left; pass --pod-cidr');
}

/** The DNS names of the API server inside the cluster, as in its Kubernetes serving certificate. */
export const API_SERVER_SERVICE_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
/**
 * The service CIDR of a new cluster (pure): the requested one, checked, or the first `10.X.0.0/16`
 * (X = 96…111, then 80…95) that overlaps nothing in `used` (the pod CIDR must be in `used`).
 * Throws a CliError naming what a requested range clashes with.
 */
export function pickServiceCIDR(used: readonly string[], podCIDR: string, requested?: string): string {
  if (requested) {
    if (!/^\d+\.\d+\.0\.0\/16$/.test(requested) || requested.split('.').slice(0, 2).some((o) => Number(o) > 255)) {
      throw new CliError(`invalid --service-cidr "${requested}": expected a /16 such as 10.96.0.0/16`);
    }
    const clash = used.find((u) => overlaps(u, requested));
    if (clash) throw new CliError(`--service-cidr ${requested} overlaps ${clash === podCIDR ? 'the pod CIDR' : 'the address range'} ${clash} already in use on this host`);
    return requested;
  }
  for (const x of [...Array.from({ length: 16 }, (_, i) => 96 + i), ...Array.from({ length: 16 }, (_, i) => 80 + i)]) {
    const cidr = `10.${x}.0.0/16`;
    if (!used.some((u) => overlaps(u, cidr))) return cidr;
  }
  throw new CliError('no free 10.x.0.0/16 service CIDR left; pass --service-cidr');
}

/**
 * What address ranges are taken on this host for `pickServiceCIDR`: Docker networks, routes,
 * other clusters' guard rules (their service CIDRs) and the service CIDRs of this home's clusters.
 */
async function usedRanges(runtime: Runtime, home: string, name: string, podCIDR: string): Promise<string[]> {
  const { LinuxHostNetwork } = await import('../runtime/hostnet.js');
  const host = new LinuxHostNetwork();
  const used = [podCIDR, ...(await runtime.listNetworks({})).map((n) => n.subnet).filter(Boolean)];
  // Without iptables/ip (not root) only Docker's and this home's ranges are known; up fails later with the reason.
  const routes = await host.routes().catch(() => []);
  used.push(...routes.map((r) => r.dst).filter((d) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(d)));
  const saved = await host.save('filter').catch(() => '');
  for (const m of saved.matchAll(/-d (\d+\.\d+\.\d+\.\d+\/\d+) -m comment --comment "?minikube-lite:[^ ]*:no service rule/g)) used.push(m[1]);
  const clustersDir = join(home, 'clusters');
  if (existsSync(clustersDir)) {
    for (const other of readdirSync(clustersDir)) {
      if (other === name) continue;
      const cidr = readClusterConfig(home, other)?.serviceCIDR;
      if (cidr) used.push(cidr);
    }
  }
  return used;
}

/** `10.244.0.0/16`, node 1 → `10.244.1.0/24` */
export const nodeCIDR = (podCIDR: string, i: number): string => podCIDR.replace(/^(\d+\.\d+)\.0\.0\/16$/, `$1.${i}.0/24`);

/**
 * The kubeconfig for the real kubectl, as YAML (js-yaml quotes whatever needs quoting): one
 * cluster trusting `caPem`, one token user, one context with namespace `default`, current.
 */
export function kubeconfigYaml(o: { name: string; server: string; caPem: string; token: string }): string {
  return yaml.dump({
    apiVersion: 'v1', kind: 'Config', 'current-context': o.name, preferences: {},
    clusters: [{ name: o.name, cluster: { server: o.server, 'certificate-authority-data': Buffer.from(o.caPem).toString('base64') } }],
    users: [{ name: o.name, user: { token: o.token } }],
    contexts: [{ name: o.name, context: { cluster: o.name, user: o.name, namespace: 'default' } }],
  }, { lineWidth: -1 });
}

/**
 * Writes the API server's self-signed serving certificate (cert.pem, key.pem) and a kubeconfig
 * trusting it, for the real kubectl; keeps an existing certificate when resuming.
 */
async function writeServingFiles(dir: string, name: string, secureServer: string, token: string, keep: boolean): Promise<string> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (!keep || !existsSync(certPath) || !existsSync(keyPath)) {
    // Also the names pods use for the API server (the `kubernetes` Service), so that the CA
    // published as kube-root-ca.crt verifies https://kubernetes.default.svc.
    const { cert, key } = await selfSignedCertificate({ hosts: ['127.0.0.1', 'localhost', ...API_SERVER_SERVICE_NAMES] });
    writeFileSync(certPath, cert, { mode: 0o600 });
    writeFileSync(keyPath, key, { mode: 0o600 });
  }
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ name, server: secureServer, caPem: readFileSync(certPath, 'utf8'), token }), { mode: 0o600 });
  return kubeconfig;
}

/** Where the control plane keeps its store, inside the cluster directory. */
export const storePath = (dir: string): string => join(dir, 'state.db');

/**
 * What to tell the user about a damaged store: the reason, and the commands to back it up,
 * repair it (sqlite3's `.recover`) or reset the cluster.
 */
export function storeDamagedMessage(path: string, reason: string, cluster: string): string {
  const recovered = path.replace(/\.db$/, '') + '.recovered.db';
  const nameFlag = cluster === 'minikube-lite' ? '' : ` --name ${cluster}`;
  return [
    `the store at ${path} is damaged: ${reason}`,
    `  back it up:  cp ${path} ${path}.damaged`,
    `  repair it:   sqlite3 ${path} .recover | sqlite3 ${recovered} && mv ${recovered} ${path} && rm -f ${path}-wal ${path}-shm`,
    `  or reset the cluster (every object is lost): minikube-lite${nameFlag} down && minikube-lite${nameFlag} up`,
  ].join('\n');
}

async function ready(server: string, path = '/readyz'): Promise<boolean> {
  return (await readyz(server, path)).ok;
}

/** A health endpoint (readyz by default): ok, or the first failed check it reports (`store failed: ...`). */
async function readyz(server: string, path = '/readyz'): Promise<{ ok: boolean; why?: string }> {
  try {
    const res = await fetch(`${server}${path}`);
    if (res.ok) return { ok: true };
    const failed = (await res.text()).split('\n').find((l) => l.startsWith('[-]'));
    return { ok: false, why: failed?.slice(3) };
  } catch {
    return { ok: false };
  }
}

/** Whether the cluster DNS at `address` answers for its zone (it answers SERVFAIL until its caches are filled). */
async function dnsAnswers(address: string): Promise<boolean> {
  try {
    const reply = await queryDns(address, DNS_PORT, DEFAULT_DOMAIN, { type: 'SOA', timeoutMs: 300 });
    return rcodeOf(reply) === 0;
  } catch {
    return false;
  }
}

export async function waitFor(what: string, deadline: number, check: () => Promise<boolean>, logHint: string): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new CliError(`timed out waiting for ${what}; see ${logHint}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The Docker runtime scoped to one cluster (or, without a name, seeing every network: used to
 * pick a free pod subnet); a stopped engine becomes a CliError with its one-sentence message.
 */
export async function connectRuntime(cluster?: string): Promise<DockerRuntime> {
  const runtime = new DockerRuntime({ clusterLabel: cluster, socketPath: dockerSocket() });
  try {
    await runtime.ping();
  } catch (e) {
    if (e instanceof RuntimeError) throw new CliError(e.message);
    throw e;
  }
  return runtime;
}

/** What `up` waits for to call a component started (see {@link bringUp} for the order). */
export type ComponentGate = 'apiserver' | 'proxy' | 'nodes' | 'dns';

/**
 * One long-running process of a cluster, as `up` and `start` run it: `node main.js <args>`,
 * detached, holding the lock `\0minikube-lite/<cluster>/<id>` (see holdComponentLock) and logging
 * to `<cluster dir>/<id>.log`. A new kind of component is one more entry in
 * {@link clusterComponents}; its command takes the lock with `lockComponent` first thing and
 * reads the token from `--token-file`.
 */
export interface ComponentSpec {
  /** Unique in the cluster: names its lock, pid file and log, e.g. `kubelet-node-1`. */
  id: string;
  /** Arguments of `main.js`, starting with `--name <cluster> --home <home> <command>`. No secrets: the token is in `--token-file`. */
  args: string[];
  /** Waited for after this component starts, before the next ones start. */
  gate?: ComponentGate;
}

/** What the component list is built from: the cluster's new config plus `up`'s options. */
export interface ComponentPlan {
  cfg: ClusterConfig;
  dir: string;
  securePort: number;
  healthzPort: number;
  labels: Record<string, Record<string, string>>;
  o: UpOptions;
}

/** The nodes' gateways: this host's address on each node network, where the cluster DNS answers. */
const gatewaysOf = (cfg: ClusterConfig): string[] => cfg.nodes.map((_, i) => nodeGateway(nodeCIDR(cfg.podCIDR, i + 1)));

/**
 * Every component of a cluster, in start order: the control plane; the service proxy (its guard
 * goes in before any pod can send to a cluster address); one kubelet per node; the cluster DNS.
 */
export function clusterComponents(g: GlobalOptions, p: ComponentPlan): ComponentSpec[] {
  const { cfg, dir, o } = p;
  const base = ['--name', g.name, '--home', g.home];
  const token = ['--token-file', tokenFile(dir)];
  const serviceCIDR = cfg.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
  const clusterDNS = cfg.clusterDNS ?? clusterDnsIP(serviceCIDR);
  const specs: ComponentSpec[] = [
    {
      id: 'controlplane', gate: 'apiserver',
      args: [...base, 'controlplane', '--port', String(cfg.apiPort), '--secure-port', String(p.securePort), '--data-dir', dir, ...token, '--service-cidr', serviceCIDR,
        ...(cfg.ingressPort ? ['--ingress-port', String(cfg.ingressPort), '--ingress-tls-port', String(cfg.ingressTLSPort ?? cfg.ingressPort + 1)] : []),
        ...(o.controlPlaneArgs ?? [])],
    },
    {
      id: 'proxy', gate: 'proxy',
      args: [...base, 'proxy', '--server', cfg.server, ...token, '--service-cidr', serviceCIDR, '--cluster-cidr', cfg.podCIDR,
        '--listen-address', cfg.listenAddress ?? '127.0.0.1', '--api-secure-port', String(p.securePort), '--nodes', cfg.nodes.join(','), '--healthz-port', String(p.healthzPort)],
    },
  ];
  cfg.nodes.forEach((n, i) => {
    const l = Object.entries(p.labels[n] ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    specs.push({
      id: `kubelet-${n}`, ...(i === cfg.nodes.length - 1 ? { gate: 'nodes' as const } : {}),
      args: [...base, 'kubelet', '--node', n, '--pod-cidr', nodeCIDR(cfg.podCIDR, i + 1), '--cluster-cidr', cfg.podCIDR, '--server', cfg.server, ...token,
        '--cluster-dns', clusterDNS, '--cluster-domain', DEFAULT_DOMAIN, '--root-dir', join(dir, 'nodes', n),
        ...(l ? ['--labels', l] : []), ...(o.nodeCpu ? ['--cpu', o.nodeCpu] : []), ...(o.nodeMemory ? ['--memory', o.nodeMemory] : []), ...(o.kubeletArgs ?? [])],
    });
  });
  specs.push({
    id: 'dns', gate: 'dns',
    args: [...base, 'dns', '--server', cfg.server, ...token, '--listen', gatewaysOf(cfg).join(','), '--cluster-dns', clusterDNS, '--cluster-domain', DEFAULT_DOMAIN,
      ...(cfg.upstreamDNS ? ['--upstream', cfg.upstreamDNS] : [])],
  });
  return specs;
}

/** The component ids of a cluster from its saved config (also configs written before `components` existed). */
export function componentIds(cfg: ClusterConfig | undefined): string[] {
  if (cfg?.components) return cfg.components.map((c) => c.id);
  return ['controlplane', 'proxy', ...(cfg?.nodes ?? []).map((n) => `kubelet-${n}`), 'dns'];
}

/** The pid of the live process holding each component's lock (a key without a pid: held, but it did not answer). */
async function liveComponents(cluster: string, ids: string[]): Promise<Map<string, number | undefined>> {
  const out = new Map<string, number | undefined>();
  await Promise.all(ids.map(async (id) => {
    const holder = await lockHolder(cluster, id);
    if (holder) out.set(id, holder.pid);
  }));
  return out;
}

export function isUp(g: GlobalOptions): Promise<boolean> {
  return lockHolder(g.name, 'controlplane').then((h) => h !== undefined);
}

/**
 * Starts what of the cluster is not running and adopts what is: a component whose lock is held
 * is left alone (never a second kubelet for one node). With the service proxy's guard
 * programmed first, every component starts at once; then the API server, the proxy's first
 * sync, the nodes' readiness and the DNS are waited for, in that order. A component that exits while we wait fails the command with the end of its
 * log. Used by `up` and `start`.
 */
export async function bringUp(g: GlobalOptions, cfg: ClusterConfig, specs: ComponentSpec[], deadline: number, out: Out): Promise<void> {
  const dir = clusterDir(g.home, g.name);
  const live = await liveComponents(g.name, specs.map((s) => s.id));
  const spawned = new Map<string, { pid: number; at: number }>();
  const exited = () => {
    for (const [id, { pid }] of spawned) {
      if (alive(pid)) continue;
      const log = logFile(dir, id);
      const tail = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-12).join('\n') : '';
      throw new CliError(`${id} exited during start-up; the end of ${log}:\n${tail}`);
    }
  };
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  // A node counts once its kubelet posted Ready; a kubelet started just now must have posted it
  // since (a stopped cluster's nodes still read Ready from before, until the grace period ends).
  const fresh = (n: Node) => {
    const readyCond = n.status?.conditions?.find((c) => c.type === 'Ready');
    if (readyCond?.status !== 'True') return false;
    const started = spawned.get(`kubelet-${n.metadata?.name}`)?.at;
    return started === undefined || new Date(readyCond.lastHeartbeatTime ?? 0).getTime() >= Math.floor(started / 1000) * 1000;
  };
  const gates: Record<ComponentGate, { what: string; log: string; check: () => Promise<boolean> }> = {
    apiserver: { what: 'the API server', log: `${dir}/controlplane.log`, check: () => ready(cfg.server) },
    proxy: { what: 'the service proxy', log: `${dir}/proxy.log`, check: () => ready(cfg.proxyHealthz ?? '', '') },
    nodes: {
      what: 'nodes to be Ready', log: `${dir}/kubelet-*.log`,
      check: async () => {
        const list = await client.list<Node>(NODES).catch(() => undefined);
        return (list?.items ?? []).filter((n) => cfg.nodes.includes(n.metadata?.name ?? '') && fresh(n)).length === cfg.nodes.length;
      },
    },
    dns: { what: 'the cluster DNS', log: `${dir}/dns.log`, check: () => dnsAnswers(gatewaysOf(cfg)[0]) },
  };
  const start = (spec: ComponentSpec) => {
    if (live.has(spec.id)) {
      out(`* ${spec.id} is already running${live.get(spec.id) ? ` (pid ${live.get(spec.id)})` : ''}: adopting it`);
      return;
    }
    if (live.size > 0) {
      // A half-dead cluster: only what is missing starts.
      out(`* ${spec.id} was not running: started it again`);
    } else {
      if (spec.id === 'controlplane') out(`* Starting control plane: API server on ${cfg.server}`);
      if (spec.id === 'proxy') out(`* Starting service proxy: service CIDR ${cfg.serviceCIDR ?? DEFAULT_SERVICE_CIDR}, NodePorts and LoadBalancers on ${cfg.listenAddress ?? '127.0.0.1'}`);
      if (spec.id === 'dns') {
        out(`* Starting cluster DNS: Service kube-system/kube-dns ${cfg.clusterDNS}, answering on ${gatewaysOf(cfg).map((a) => `${a}:${DNS_PORT}`).join(', ')}` +
          `${cfg.upstreamDNS ? `, forwarding other names to ${cfg.upstreamDNS}` : ''}`);
      }
      if (spec.id === `kubelet-${cfg.nodes[0]}`) {
        out(`* Starting ${cfg.nodes.length} node${cfg.nodes.length > 1 ? 's' : ''}: ${cfg.nodes.map((n, i) => `${n} (${nodeCIDR(cfg.podCIDR, i + 1)})`).join(', ')}`);
      }
    }
    spawned.set(spec.id, { pid: spawnComponent(dir, spec.id, spec.args), at: Date.now() });
  };
  const pass = async (gate: ComponentGate) => {
    const g = gates[gate];
    await waitFor(g.what, deadline, async () => (exited(), g.check()), g.log);
  };
  // No pod may send a packet for a cluster address before the rules that keep it on this
  // machine exist: with the proxy not running, program its guard here first. Then every
  // process starts at once (each waits for the API server itself): process start-up is most of
  // `up`'s time, and two cores start two at once.
  if (specs.some((s) => s.id === 'proxy') && !live.has('proxy')) {
    const { LinuxHostNetwork } = await import('../runtime/hostnet.js');
    const { installGuard } = await import('../proxy/proxier.js');
    await installGuard(new LinuxHostNetwork(), { cluster: g.name, serviceCIDR: cfg.serviceCIDR ?? DEFAULT_SERVICE_CIDR, clusterCIDR: cfg.podCIDR });
  }
  for (const spec of specs) start(spec);
  for (const gate of ['apiserver', 'proxy', 'nodes', 'dns'] as const) {
    if (gate === 'nodes' || specs.some((s) => s.gate === gate)) await pass(gate);
  }
}

/**
 * The cluster's config and component list: the saved ones when the cluster exists (resuming
 * keeps its nodes, ports, token and certificate), else new ones from `o`.
 */
export async function prepareCluster(g: GlobalOptions, o: UpOptions, out: Out): Promise<{ cfg: ClusterConfig; specs: ComponentSpec[]; resumed: boolean }> {
  const dir = clusterDir(g.home, g.name);
  const previous = readClusterConfig(g.home, g.name);
  // A damaged store would make the control plane exit at once and this command wait for it.
  const damage = checkStoreFile(storePath(dir));
  if (damage) throw new CliError(storeDamagedMessage(storePath(dir), damage, g.name));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (previous?.serviceCIDR && o.serviceCidr && o.serviceCidr !== previous.serviceCIDR) {
    throw new CliError(`cluster "${g.name}" keeps its service CIDR ${previous.serviceCIDR}; to use ${o.serviceCidr}, run "minikube-lite down" first`);
  }
  if (previous?.components && previous.secureServer && previous.kubeconfig) {
    if (o.nodes !== previous.nodes.length) out(`* Keeping the cluster's ${previous.nodes.length} node(s); "down" first to change them`);
    writeTokenFile(dir, previous.token);
    await writeServingFiles(dir, g.name, previous.secureServer, previous.token, true);
    const cfg: ClusterConfig = { ...previous, stoppedAt: undefined };
    writeClusterConfig(g.home, cfg);
    return { cfg, specs: previous.components, resumed: true };
  }
  const nodes = Array.from({ length: o.nodes }, (_, i) => `node-${i + 1}`);
  const labels = parseNodeLabels(o.nodeLabels, nodes);
  const port = o.port ?? previous?.apiPort ?? (await freePort());
  const podCIDR = previous?.podCIDR ?? (await choosePodCIDR(await connectRuntime(), g.home, o.podCidr));
  if (previous?.serviceCIDR && o.serviceCidr && o.serviceCidr !== previous.serviceCIDR) {
    throw new CliError(`cluster "${g.name}" keeps its service CIDR ${previous.serviceCIDR}; to use ${o.serviceCidr}, run "minikube-lite down" first`);
  }
  const serviceCIDR = previous?.serviceCIDR ?? pickServiceCIDR(await usedRanges(await connectRuntime(), g.home, g.name, podCIDR), podCIDR, o.serviceCidr);
  const listenAddress = o.listenAddress ?? previous?.listenAddress ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(listenAddress)) throw new CliError(`invalid --listen-address "${listenAddress}": expected an IPv4 address such as 127.0.0.1`);
  const token = previous?.token ?? randomBytes(24).toString('hex');
  const server = `http://127.0.0.1:${port}`;
  const securePort = previous?.secureServer ? Number(new URL(previous.secureServer).port) : await freePort();
  const secureServer = `https://127.0.0.1:${securePort}`;
  writeTokenFile(dir, token);
  // The key service-account tokens are signed with (kept across restarts so tokens stay valid),
  // made while the serving certificate is: each RSA key takes 60-200 ms.
  const saKey = join(dir, SERVICE_ACCOUNT_KEY_FILE);
  const [kubeconfig] = await Promise.all([
    writeServingFiles(dir, g.name, secureServer, token, previous !== undefined),
    existsSync(saKey) ? undefined : generateSigningKey().then((k) => writeFileSync(saKey, k, { mode: 0o600 })),
  ]);
  const clusterDNS = clusterDnsIP(serviceCIDR);
  const ingressPort = o.ingressPort ?? previous?.ingressPort ?? (await freePort());
  let ingressTLSPort = o.ingressTlsPort ?? previous?.ingressTLSPort ?? (await freePort());
  while (ingressTLSPort === ingressPort) ingressTLSPort = await freePort();
  for (const [flag, p] of [['--ingress-port', ingressPort], ['--ingress-tls-port', ingressTLSPort]] as const) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new CliError(`invalid ${flag} "${p}": must be a port number from 1 to 65535`);
  }
  const upstreamDNS = o.upstreamDns ?? previous?.upstreamDNS;
  const healthzPort = await freePort();
  const cfg: ClusterConfig = {
    name: g.name, server, token, apiPort: port, secureServer, kubeconfig, podCIDR, serviceCIDR, listenAddress, nodes, createdAt: previous?.createdAt ?? new Date().toISOString(),
    clusterDNS, ...(upstreamDNS ? { upstreamDNS } : {}), proxyHealthz: `http://127.0.0.1:${healthzPort}/healthz`, ingressPort, ingressTLSPort,
  };
  const specs = clusterComponents(g, { cfg, dir, securePort, healthzPort, labels, o });
  cfg.components = specs;
  cfg.kubeletArgs = Object.fromEntries(specs.filter((s) => s.id.startsWith('kubelet-')).map((s) => [s.id.slice('kubelet-'.length), s.args]));
  writeClusterConfig(g.home, cfg);
  return { cfg, specs, resumed: previous !== undefined };
}

export async function up(g: GlobalOptions, o: UpOptions, out: Out): Promise<void> {
  const started = Date.now();
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 250) throw new CliError(`invalid --nodes "${o.nodes}": must be an integer from 1 to 250`);
  const existing = readClusterConfig(g.home, g.name);
  if (existing) {
    const live = await liveComponents(g.name, componentIds(existing));
    if (live.size > 0 && o.serviceCidr && existing.serviceCIDR && o.serviceCidr !== existing.serviceCIDR) {
      throw new CliError(`cluster "${g.name}" is up with service CIDR ${existing.serviceCIDR}; to use ${o.serviceCidr}, run "minikube-lite down" first`);
    }
    if (componentIds(existing).every((id) => live.has(id))) {
      out(`* Cluster "${g.name}" is already up (API server ${existing.server}, nodes: ${existing.nodes.join(', ')})`);
      return;
    }
  }
  const runtime = await connectRuntime(g.name);
  const { cfg, specs, resumed } = await prepareCluster(g, o, out);
  out(`* minikube-lite on ${await runtime.version()}: starting cluster "${g.name}"${resumed ? ' (resuming its saved state)' : ''}`);
  await bringUp(g, cfg, specs, Date.now() + o.waitMs, out);
  if (cfg.ingressPort) {
    const at = cfg.listenAddress ?? '127.0.0.1';
    out(`* Ingress controller (nginx, namespace ingress-nginx): http://${at}:${cfg.ingressPort}, https://${at}:${cfg.ingressTLSPort ?? ''} (minikube-lite ingress port [--tls])`);
  }
  out(`* kubectl works too: kubectl --kubeconfig ${cfg.kubeconfig} get pods`);
  out(`* Done! Cluster "${g.name}" is ready in ${((Date.now() - started) / 1000).toFixed(1)}s. Try: minikube-lite${g.name === 'minikube-lite' ? '' : ' --name ' + g.name} get nodes`);
}

export async function down(g: GlobalOptions, out: Out): Promise<void> {
  const dir = clusterDir(g.home, g.name);
  const cfg = readClusterConfig(g.home, g.name);
  const runtime = await connectRuntime(g.name);
  const stopped = await stopClusterProcesses(dir, g.name, g.home, componentIds(cfg));
  const filter = { [LABEL_CLUSTER]: g.name };
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes(filter), runtime.listContainers(filter)]);
  // A removal the engine refuses (a dead container whose root filesystem is still mounted) does
  // not stop `down`: what is left is said below, with how to clean it.
  const failures = new Map<string, string>();
  const remove = (id: string, fn: (id: string) => Promise<void>) => fn(id).catch((e: unknown) => void failures.set(id, (e as Error).message));
  await Promise.all(containers.map((c) => remove(c.id, (id) => runtime.removeContainer(id))));
  await Promise.all(sandboxes.map((s) => remove(s.id, (id) => runtime.removePodSandbox(id))));
  const [sandboxesLeft, containersLeft] = await Promise.all([runtime.listPodSandboxes(filter), runtime.listContainers(filter)]);
  const left = [...sandboxesLeft, ...containersLeft];
  const volumes = await runtime.listVolumes(filter);
  await Promise.all(volumes.map((v) => runtime.removeVolume(v.name)));
  const networks = await runtime.listNetworks(filter);
  // Without its config (a home folder lost), the pod CIDR is still known from a node network.
  const podCIDR = cfg?.podCIDR ?? networks.map((n) => n.subnet.replace(/^(\d+\.\d+)\.\d+\.0\/24$/, '$1.0.0/16')).find((c) => c.endsWith('.0.0/16'));
  if (podCIDR) await runtime.disallowPodTraffic(podCIDR);
  // The proxy is stopped: remove its rules, chains and routes (also after a crash).
  const { LinuxHostNetwork } = await import('../runtime/hostnet.js');
  const { cleanupHost } = await import('../proxy/proxier.js');
  const cidrs = await cleanupHost(new LinuxHostNetwork(), g.name, { serviceCIDR: cfg?.serviceCIDR, clusterCIDR: podCIDR });
  // Without a config or a node network left, the pod CIDR comes from the proxy's rules.
  if (!podCIDR && cidrs.clusterCIDR) await runtime.disallowPodTraffic(cidrs.clusterCIDR);
  const networksLeft: string[] = [];
  for (const n of networks) await runtime.removeNetwork(n.name).catch((e: unknown) => void networksLeft.push(`${n.name} (${(e as Error).message})`));
  const existed = cfg !== undefined || existsSync(dir) || stopped + containers.length + sandboxes.length + networks.length + volumes.length > 0;
  rmSync(dir, { recursive: true, force: true });
  if (!existed) {
    out(`* Cluster "${g.name}" does not exist; nothing to remove`);
    return;
  }
  const removed = containers.length + sandboxes.length - left.length;
  out(`* Deleted cluster "${g.name}": ${stopped} processes stopped; removed ${removed} containers, ${networks.length - networksLeft.length} networks, ${volumes.length} volumes`);
  if (left.length) {
    const why = left.map((o) => failures.get(o.id)).find((m) => m) ?? 'the engine still removes them ("Removal In Progress")';
    out(`! ${left.length} container(s) of the cluster could not be removed: ${left.map((o) => o.name).join(', ')}`);
    out(`  The engine says: ${why}`);
    out('  Dead containers whose root filesystem is still mounted (left by a Docker engine restart) can be removed after the engine');
    out(`  unmounts what it left behind: sudo MKL_ENGINE_RESTART=1 bash scripts/engine.sh; then: docker rm -f $(docker ps -aq --filter label=${LABEL_CLUSTER}=${g.name})`);
  }
  if (networksLeft.length) out(`! network(s) left: ${networksLeft.join('; ')}; remove them with "docker network rm" once their containers are gone`);
}

/** Prints the cluster's state; false (exit code 1) when it does not exist, is damaged or is not running. */
export async function status(g: GlobalOptions, out: Out): Promise<boolean> {
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg) {
    out(`Cluster "${g.name}" is not running (no config at ${clusterDir(g.home, g.name)})`);
    return false;
  }
  const dir = clusterDir(g.home, g.name);
  const ids = componentIds(cfg);
  const live = await liveComponents(g.name, ids);
  const state = (c: string) => (live.has(c) ? `Running${live.get(c) ? ` (pid ${live.get(c)})` : ''}` : 'Stopped');
  out(`Cluster:       ${cfg.name}`);
  out(`State:         ${live.size === 0 ? `Stopped${cfg.stoppedAt ? ` (since ${cfg.stoppedAt}; "minikube-lite start" brings it back)` : ''}` : live.size === ids.length ? 'Running' : `Degraded (${ids.length - live.size} of ${ids.length} components stopped; "minikube-lite up" starts them)`}`);
  const readiness = live.has('controlplane') ? await readyz(cfg.server) : { ok: false };
  out(`API server:    ${cfg.server} - ${readiness.ok ? 'Ready' : `Not ready${readiness.why ? ` (${readiness.why})` : ''}`}`);
  const damage = checkStoreFile(storePath(dir));
  if (damage) {
    out(`Store:         ${storeDamagedMessage(storePath(dir), damage, g.name)}`);
    return false;
  }
  out(`Control plane: ${state('controlplane')}`);
  out(`Service proxy: ${state('proxy')}${cfg.proxyHealthz && live.has('proxy') ? ` - ${(await ready(cfg.proxyHealthz, '')) ? 'synced' : 'not synced'}` : ''}`);
  out(`Pod CIDR:      ${cfg.podCIDR}`);
  if (cfg.serviceCIDR) out(`Service CIDR:  ${cfg.serviceCIDR}`);
  const gateways = gatewaysOf(cfg).map((a) => `${a}:${DNS_PORT}`);
  out(`DNS:           ${state('dns')}, Service kube-system/kube-dns ${cfg.clusterDNS ?? clusterDnsIP(cfg.serviceCIDR ?? DEFAULT_SERVICE_CIDR)} -> ${gateways.join(', ')}` +
    `${cfg.upstreamDNS ? `, upstream ${cfg.upstreamDNS}` : ''}`);
  if (cfg.ingressPort) out(`Ingress:       http://${cfg.listenAddress ?? '127.0.0.1'}:${cfg.ingressPort}, https://${cfg.listenAddress ?? '127.0.0.1'}:${cfg.ingressTLSPort ?? ''} (nginx pods in namespace ingress-nginx)`);
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  const list = readiness.ok ? await client.list<Node>(NODES).catch(() => undefined) : undefined;
  for (const n of cfg.nodes) {
    const node = list?.items.find((x) => x.metadata?.name === n);
    const st = node ? nodeRow(node, new Date()).status : 'Unknown';
    out(`Node ${n}:${' '.repeat(Math.max(1, 8 - n.length))}kubelet ${state(`kubelet-${n}`)}, ${st}`);
  }
  const known = new Set(['controlplane', 'proxy', 'dns', ...cfg.nodes.map((n) => `kubelet-${n}`)]);
  for (const id of ids.filter((c) => !known.has(c))) out(`${id}:${' '.repeat(Math.max(1, 14 - id.length))}${state(id)}`);
  return live.size > 0;
}

/** Ready condition of one node, as `get nodes` shows it, or 'Unknown' when it is not registered. */
export async function nodeReady(client: ApiClient, node: string): Promise<string> {
  const n = await client.get<Node>(NODES, node).catch(() => undefined);
  return n ? nodeRow(n, new Date()).status : 'Unknown';
}

/**
 * `node stop NAME`: simulates losing a node, as when its machine powers off: its kubelet stops
 * (so heartbeats stop and the node lifecycle controller takes over) and its containers stop.
 * With `keepContainers`, only the kubelet stops (a kubelet crash).
 */
export async function nodeStop(g: GlobalOptions, node: string, keepContainers: boolean, out: Out): Promise<void> {
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg || !(await isUp(g))) throw new CliError(`cluster "${g.name}" is not running: start it with "minikube-lite up"`);
  if (!cfg.nodes.includes(node)) throw new CliError(`node "${node}" not found (nodes: ${cfg.nodes.join(', ')})`);
  const dir = clusterDir(g.home, g.name);
  const wasRunning = await stopComponent(dir, g.name, `kubelet-${node}`);
  let stopped = 0;
  if (!keepContainers) {
    const runtime = await connectRuntime(g.name);
    const filter = { [LABEL_CLUSTER]: g.name, [LABEL_NODE]: node };
    const running = (await runtime.listContainers(filter)).filter((c) => c.state === 'running');
    const sandboxes = (await runtime.listPodSandboxes(filter)).filter((s) => s.state === 'ready');
    await Promise.all(running.map((c) => runtime.stopContainer(c.id, 0)));
    await Promise.all(sandboxes.map((s) => runtime.stopPodSandbox(s.id)));
    stopped = running.length + sandboxes.length;
  }
  out(wasRunning
    ? `* Node ${node} stopped (kubelet down${keepContainers ? ', containers left running' : `, ${stopped} containers stopped`}); it turns NotReady once its heartbeat is missed`
    : `* Node ${node} was already stopped`);
}

/** `node start NAME`: starts the node's kubelet again, which re-registers and cleans stale containers. */
export async function nodeStart(g: GlobalOptions, node: string, waitMs: number, out: Out): Promise<void> {
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg || !(await isUp(g))) throw new CliError(`cluster "${g.name}" is not running: start it with "minikube-lite up"`);
  const args = cfg.kubeletArgs?.[node];
  if (!args) throw new CliError(`node "${node}" not found (nodes: ${cfg.nodes.join(', ')})`);
  const dir = clusterDir(g.home, g.name);
  if (await lockHolder(g.name, `kubelet-${node}`)) {
    out(`* Node ${node} is already running`);
    return;
  }
  const started = Date.now();
  spawnComponent(dir, `kubelet-${node}`, args);
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  // The kubelet posts Ready with a fresh heartbeat as soon as it has registered again.
  const since = new Date(started - 1000);
  await waitFor(`node ${node} to be Ready`, Date.now() + waitMs, async () => {
    const n = await client.get<Node>(NODES, node).catch(() => undefined);
    const ready = n?.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && new Date(ready.lastHeartbeatTime ?? 0) >= since;
  }, `${dir}/kubelet-${node}.log`);
  out(`* Node ${node} started and ${await nodeReady(client, node)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
