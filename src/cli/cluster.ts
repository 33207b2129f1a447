/**
 * `up`, `down` and `status`: the life of a cluster on this machine. A cluster is a control-plane
 * process, one kubelet process per node, one Docker network per node (its pod subnet), and a
 * client config under `<home>/clusters/<name>/`. Everything in Docker carries the label
 * `minikube-lite.cluster=<name>`, which is how `down` finds it all.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedCertificate } from '../apiserver/tls.js';
import { createServer } from 'node:net';
import type { Node } from '../api/types.js';
import { LABEL_CLUSTER, LABEL_NODE } from '../api/types.js';
import { ApiClient, NODES } from '../client/client.js';
import { DockerRuntime } from '../runtime/docker.js';
import { RuntimeError, type Runtime } from '../runtime/types.js';
import { nodeRow } from '../api/podstatus.js';
import { CliError, clusterDir, dockerSocket, readClusterConfig, writeClusterConfig, type ClusterConfig, type GlobalOptions } from './context.js';
import { alive, lockHolder, logFile, spawnComponent, stopClusterProcesses, stopComponent, tokenFile, writeTokenFile } from './processes.js';

export interface UpOptions {
  nodes: number;
  nodeLabels: string[];
  port?: number;
  podCidr?: string;
  nodeCpu?: string;
  nodeMemory?: string;
  /** Maximum time to wait for readiness, ms. */
  waitMs: number;
  /** Extra arguments for the control-plane process (e.g. controller timings). */
  controlPlaneArgs?: string[];
  /** Extra arguments for every kubelet process (e.g. back-off timings). */
  kubeletArgs?: string[];
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

/** `10.244.0.0/16`, node 1 → `10.244.1.0/24` */
export const nodeCIDR = (podCIDR: string, i: number): string => podCIDR.replace(/^(\d+\.\d+)\.0\.0\/16$/, `$1.${i}.0/24`);

/**
 * Writes the API server's self-signed serving certificate (cert.pem, key.pem) and a kubeconfig
 * trusting it, for the real kubectl; keeps an existing certificate when resuming.
 */
function writeServingFiles(dir: string, name: string, secureServer: string, token: string, keep: boolean): string {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (!keep || !existsSync(certPath) || !existsSync(keyPath)) {
    const { cert, key } = selfSignedCertificate({ hosts: ['127.0.0.1', 'localhost'] });
    writeFileSync(certPath, cert, { mode: 0o600 });
    writeFileSync(keyPath, key, { mode: 0o600 });
  }
  const ca = Buffer.from(readFileSync(certPath, 'utf8')).toString('base64');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', `current-context: ${name}`, 'preferences: {}',
    'clusters:', `- name: ${name}`, '  cluster:', `    server: ${secureServer}`, `    certificate-authority-data: ${ca}`,
    'users:', `- name: ${name}`, '  user:', `    token: ${token}`,
    'contexts:', `- name: ${name}`, '  context:', `    cluster: ${name}`, `    user: ${name}`, '    namespace: default', '',
  ].join('\n'), { mode: 0o600 });
  return kubeconfig;
}

async function ready(server: string): Promise<boolean> {
  try {
    const res = await fetch(`${server}/readyz`);
    return res.ok;
  } catch {
    return false;
  }
}

async function waitFor(what: string, deadline: number, check: () => Promise<boolean>, logHint: string): Promise<void> {
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

/**
 * One long-running process of a cluster, as `up` and `start` run it: `node main.js <args>`,
 * detached, holding the lock `\0minikube-lite/<cluster>/<id>` (see holdComponentLock) and logging
 * to `<cluster dir>/<id>.log`. A new kind of component (a service proxy, DNS) is one more entry
 * in {@link clusterComponents}; its command takes the lock with `lockComponent` first thing.
 */
export interface ComponentSpec {
  /** Unique in the cluster: names its lock, pid file and log, e.g. `kubelet-node-1`. */
  id: string;
  /** Arguments of `main.js`, starting with `--name <cluster> --home <home> <command>`. No secrets: the token is in `--token-file`. */
  args: string[];
  /** The components after this one start only once it answers (the control plane's /readyz). */
  gate?: 'apiserver';
}

/** What the component list is built from: the cluster's saved config plus `up`'s options. */
export interface ComponentPlan {
  cfg: ClusterConfig;
  dir: string;
  securePort: number;
  labels: Record<string, Record<string, string>>;
  o: UpOptions;
}

/** Every component of a cluster, in start order: the control plane, then one kubelet per node. */
export function clusterComponents(g: GlobalOptions, p: ComponentPlan): ComponentSpec[] {
  const { cfg, dir, o } = p;
  const base = ['--name', g.name, '--home', g.home];
  const tokenArgs = ['--token-file', tokenFile(dir)];
  const specs: ComponentSpec[] = [{
    id: 'controlplane', gate: 'apiserver',
    args: [...base, 'controlplane', '--port', String(cfg.apiPort), '--secure-port', String(p.securePort), '--data-dir', dir, ...tokenArgs, ...(o.controlPlaneArgs ?? [])],
  }];
  cfg.nodes.forEach((n, i) => {
    const l = Object.entries(p.labels[n] ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    specs.push({
      id: `kubelet-${n}`,
      args: [...base, 'kubelet', '--node', n, '--pod-cidr', nodeCIDR(cfg.podCIDR, i + 1), '--cluster-cidr', cfg.podCIDR, '--server', cfg.server, ...tokenArgs,
        ...(l ? ['--labels', l] : []), ...(o.nodeCpu ? ['--cpu', o.nodeCpu] : []), ...(o.nodeMemory ? ['--memory', o.nodeMemory] : []), ...(o.kubeletArgs ?? [])],
    });
  });
  return specs;
}

/** The component ids of a cluster from its saved config (also configs written before `components` existed). */
export function componentIds(cfg: ClusterConfig | undefined): string[] {
  if (cfg?.components) return cfg.components.map((c) => c.id);
  return ['controlplane', ...(cfg?.nodes ?? []).map((n) => `kubelet-${n}`)];
}

/** The pid of the live process holding each component's lock (undefined: not running). */
async function liveComponents(cluster: string, ids: string[]): Promise<Map<string, number | undefined>> {
  const out = new Map<string, number | undefined>();
  await Promise.all(ids.map(async (id) => {
    const holder = await lockHolder(cluster, id);
    if (holder) out.set(id, holder.pid);
  }));
  return out;
}

function isUp(g: GlobalOptions): Promise<boolean> {
  return lockHolder(g.name, 'controlplane').then((h) => h !== undefined);
}

/**
 * Starts what of the cluster is not running and adopts what is: a component whose lock is held
 * is left alone (never a second kubelet for one node), the others are spawned in order, each
 * gate waited for; then waits for every node to be Ready. Used by `up` and `start`.
 */
export async function bringUp(g: GlobalOptions, cfg: ClusterConfig, specs: ComponentSpec[], deadline: number, out: Out): Promise<void> {
  const dir = clusterDir(g.home, g.name);
  const live = await liveComponents(g.name, specs.map((s) => s.id));
  const spawned = new Map<string, { pid: number; at: number }>();
  /** A component that exited while we wait for it is reported at once, with the end of its log. */
  const exited = () => {
    for (const [id, { pid }] of spawned) {
      if (alive(pid)) continue;
      const log = logFile(dir, id);
      const tail = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-12).join('\n') : '';
      throw new CliError(`${id} exited during start-up; the end of ${log}:\n${tail}`);
    }
  };
  for (const spec of specs) {
    if (live.has(spec.id)) {
      out(`* ${spec.id} is already running${live.get(spec.id) ? ` (pid ${live.get(spec.id)})` : ''}: adopting it`);
    } else {
      if (spec.id === 'controlplane') out(`* Starting control plane: API server on ${cfg.server}`);
      spawned.set(spec.id, { pid: spawnComponent(dir, spec.id, spec.args), at: Date.now() });
    }
    if (spec.gate === 'apiserver') await waitFor('the API server', deadline, async () => (exited(), ready(cfg.server)), `${dir}/${spec.id}.log`);
    if (spec.id === 'controlplane') {
      out(`* Starting ${cfg.nodes.length} node${cfg.nodes.length > 1 ? 's' : ''}: ${cfg.nodes.map((n, i) => `${n} (${nodeCIDR(cfg.podCIDR, i + 1)})`).join(', ')}`);
    }
  }
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  // A node counts once its kubelet posted Ready; a kubelet started just now must have posted it
  // since (a stopped cluster's nodes still read Ready from before, until the grace period ends).
  const fresh = (n: Node) => {
    const readyCond = n.status?.conditions?.find((c) => c.type === 'Ready');
    if (readyCond?.status !== 'True') return false;
    const started = spawned.get(`kubelet-${n.metadata?.name}`)?.at;
    return started === undefined || new Date(readyCond.lastHeartbeatTime ?? 0).getTime() >= Math.floor(started / 1000) * 1000;
  };
  await waitFor('nodes to be Ready', deadline, async () => {
    exited();
    const list = await client.list<Node>(NODES).catch(() => undefined);
    const readyNodes = (list?.items ?? []).filter((n) => cfg.nodes.includes(n.metadata?.name ?? '') && fresh(n));
    return readyNodes.length === cfg.nodes.length;
  }, `${dir}/kubelet-*.log`);
}

/**
 * The cluster's config and component list: the saved ones when the cluster exists (resuming
 * keeps its nodes, ports, token and certificate), else new ones from `o`.
 */
export async function prepareCluster(g: GlobalOptions, o: UpOptions, out: Out): Promise<{ cfg: ClusterConfig; specs: ComponentSpec[]; resumed: boolean }> {
  const dir = clusterDir(g.home, g.name);
  const previous = readClusterConfig(g.home, g.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (previous?.components && previous.secureServer && previous.kubeconfig) {
    if (o.nodes !== previous.nodes.length) out(`* Keeping the cluster's ${previous.nodes.length} node(s); "down" first to change them`);
    writeTokenFile(dir, previous.token);
    writeServingFiles(dir, g.name, previous.secureServer, previous.token, true);
    const cfg: ClusterConfig = { ...previous, stoppedAt: undefined };
    writeClusterConfig(g.home, cfg);
    return { cfg, specs: previous.components, resumed: true };
  }
  const nodes = Array.from({ length: o.nodes }, (_, i) => `node-${i + 1}`);
  const labels = parseNodeLabels(o.nodeLabels, nodes);
  const port = o.port ?? previous?.apiPort ?? (await freePort());
  const podCIDR = previous?.podCIDR ?? (await choosePodCIDR(await connectRuntime(), g.home, o.podCidr));
  const token = previous?.token ?? randomBytes(24).toString('hex');
  const server = `http://127.0.0.1:${port}`;
  const securePort = previous?.secureServer ? Number(new URL(previous.secureServer).port) : await freePort();
  const secureServer = `https://127.0.0.1:${securePort}`;
  writeTokenFile(dir, token);
  const kubeconfig = writeServingFiles(dir, g.name, secureServer, token, previous !== undefined);
  const cfg: ClusterConfig = {
    name: g.name, server, token, apiPort: port, secureServer, kubeconfig, podCIDR, nodes, createdAt: previous?.createdAt ?? new Date().toISOString(),
  };
  const specs = clusterComponents(g, { cfg, dir, securePort, labels, o });
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
    if (componentIds(existing).every((id) => live.has(id))) {
      out(`* Cluster "${g.name}" is already up (API server ${existing.server}, nodes: ${existing.nodes.join(', ')})`);
      return;
    }
  }
  const runtime = await connectRuntime(g.name);
  const { cfg, specs, resumed } = await prepareCluster(g, o, out);
  out(`* minikube-lite on ${await runtime.version()}: starting cluster "${g.name}"${resumed ? ' (resuming its saved state)' : ''}`);
  await bringUp(g, cfg, specs, Date.now() + o.waitMs, out);
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
  await Promise.all(containers.map((c) => runtime.removeContainer(c.id)));
  await Promise.all(sandboxes.map((s) => runtime.removePodSandbox(s.id)));
  const volumes = await runtime.listVolumes(filter);
  await Promise.all(volumes.map((v) => runtime.removeVolume(v.name)));
  const networks = await runtime.listNetworks(filter);
  // Without its config (a home folder lost), the pod CIDR is still known from a node network.
  const podCIDR = cfg?.podCIDR ?? networks.map((n) => n.subnet.replace(/^(\d+\.\d+)\.\d+\.0\/24$/, '$1.0.0/16')).find((c) => c?.endsWith('.0.0/16'));
  if (podCIDR) await runtime.disallowPodTraffic(podCIDR);
  for (const n of networks) await runtime.removeNetwork(n.name);
  const existed = cfg !== undefined || existsSync(dir) || stopped + containers.length + sandboxes.length + networks.length + volumes.length > 0;
  rmSync(dir, { recursive: true, force: true });
  if (!existed) {
    out(`* Cluster "${g.name}" does not exist; nothing to remove`);
    return;
  }
  out(`* Deleted cluster "${g.name}": ${stopped} processes stopped; removed ${containers.length + sandboxes.length} containers, ${networks.length} networks, ${volumes.length} volumes`);
}

/** Prints the cluster's state; false (exit code 1) when it does not exist or is not running. */
export async function status(g: GlobalOptions, out: Out): Promise<boolean> {
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg) {
    out(`Cluster "${g.name}" is not running (no config at ${clusterDir(g.home, g.name)})`);
    return false;
  }
  const ids = componentIds(cfg);
  const live = await liveComponents(g.name, ids);
  const state = (c: string) => (live.has(c) ? `Running${live.get(c) ? ` (pid ${live.get(c)})` : ''}` : 'Stopped');
  const apiReady = live.has('controlplane') && (await ready(cfg.server));
  out(`Cluster:       ${cfg.name}`);
  out(`State:         ${live.size === 0 ? `Stopped${cfg.stoppedAt ? ` (since ${cfg.stoppedAt}; "minikube-lite start" brings it back)` : ''}` : live.size === ids.length ? 'Running' : `Degraded (${ids.length - live.size} of ${ids.length} components stopped; "minikube-lite up" starts them)`}`);
  out(`API server:    ${cfg.server} - ${apiReady ? 'Ready' : 'Not ready'}`);
  out(`Control plane: ${state('controlplane')}`);
  out(`Pod CIDR:      ${cfg.podCIDR}`);
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  const list = apiReady ? await client.list<Node>(NODES).catch(() => undefined) : undefined;
  for (const n of cfg.nodes) {
    const node = list?.items.find((x) => x.metadata?.name === n);
    const st = node ? nodeRow(node, new Date()).status : 'Unknown';
    out(`Node ${n}:${' '.repeat(Math.max(1, 8 - n.length))}kubelet ${state(`kubelet-${n}`)}, ${st}`);
  }
  for (const id of ids.filter((c) => c !== 'controlplane' && !c.startsWith('kubelet-'))) out(`${id}:${' '.repeat(Math.max(1, 14 - id.length))}${state(id)}`);
  return live.size > 0;
}

/** Ready condition of one node, as `get nodes` shows it, or 'Unknown' when it is not registered. */
async function nodeReady(client: ApiClient, node: string): Promise<string> {
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
