/**
 * Entry points of the cluster's long-running components, each started as its own process by
 * `up` (`minikube-lite controlplane …`, `minikube-lite kubelet …`). They reach each other only
 * through the API server's HTTP API.
 */
import { limitRangerAdmission, resourceQuotaAdmission } from '../apiserver/admission/limits.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCES } from '../api/registry.js';
import { DASHBOARD_STATIC_DIR, startDashboard } from '../dashboard/server.js';
import { writeDashboardInfo } from '../dashboard/cli.js';
import { componentTracer, startTracePruner, tracingEnabled } from '../trace/components.js';
import { startApiServer } from '../apiserver/server.js';
import { TokenIssuer } from '../apiserver/auth/tokens.js';
import { SERVICE_ACCOUNT_KEY_FILE } from '../apiserver/auth/signingkey.js';
import { serviceAccountAdmission } from '../apiserver/admission/serviceaccount.js';
import { defaultStorageClassAdmission, storageProtectionAdmission } from '../apiserver/admission/storage.js';
import { ApiClient, componentUserAgent } from '../client/client.js';
import type { BackoffPolicy } from '../kubelet/backoff.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { startControllers } from '../controllers/manager.js';
import { defaultIngressClassAdmission } from '../apiserver/admission/ingressclass.js';
import { openSqliteStore, StoreDamagedError, type SqliteStore } from '../store/sqlite.js';
import { LocalHostDirectories } from '../controllers/volume/hostdirs.js';
import { CliError, dockerSocket } from './context.js';
import { ComponentLockedError, holdComponentLock, readTokenFile, type ComponentLock } from './processes.js';

const log = (component: string) => (msg: string) => process.stderr.write(`${new Date().toISOString()} ${component} ${msg}\n`);

/** Runs `fn` on SIGTERM/SIGINT, then exits. */
function onShutdown(fn: () => Promise<void>): void {
  let done = false;
  const handler = () => {
    if (done) return;
    done = true;
    fn().catch((e: unknown) => process.stderr.write(`shutdown: ${(e as Error).message}\n`)).finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * The first thing every component does: take its lock (see holdComponentLock), so that a second
 * copy of it in the same cluster exits at once with a clear message instead of fighting the
 * first over the same containers or store. Components other helpers add call this too.
 */
export async function lockComponent(cluster: string, component: string): Promise<ComponentLock> {
  try {
    return await holdComponentLock(cluster, component);
  } catch (e) {
    if (e instanceof ComponentLockedError) throw new CliError(e.message);
    throw e;
  }
}

/** The API token from `--token-file` (a bad file is a CliError). */
export function componentToken(path: string): string {
  try {
    return readTokenFile(path);
  } catch (e) {
    throw new CliError(`--token-file: ${(e as Error).message}`);
  }
}

/** How long a component started beside the API server waits for it to answer `/readyz`. */
const API_READY_TIMEOUT_MS = 120_000;

/** The control plane: API server (with its SQLite store), scheduler and controller manager. */
export async function runControlPlane(opts: {
  cluster: string; dataDir: string; port: number; securePort?: number; tokenFile: string; host: string;
  nodeMonitorGracePeriodMs?: number; podEvictionTimeoutMs?: number;
  /** Where Service ClusterIPs come from (default 10.96.0.0/16) and node ports (default 30000-32767). */
  serviceCIDR?: string; nodePortRange?: string;
  /** Run the ingress controller, its Service on these ports; its nginx configuration lives in `<dataDir>/ingress-nginx`. */
  ingress?: { httpPort: number; httpsPort: number };
  /** The HPA controller's sync period and default scale-down stabilisation window. */
  hpaSyncPeriodMs?: number; hpaDownscaleStabilizationMs?: number;
}): Promise<void> {
  await lockComponent(opts.cluster, 'controlplane');
  const token = componentToken(opts.tokenFile);
  mkdirSync(opts.dataDir, { recursive: true });
  let store: SqliteStore;
  try {
    store = openSqliteStore(join(opts.dataDir, 'state.db'));
  } catch (e) {
    if (!(e instanceof StoreDamagedError)) throw e;
    // `up` checks the store before starting this process; say it plainly for the log too.
    process.stderr.write(`controlplane: ${e.message}; run "minikube-lite status" for how to back it up and repair it\n`);
    process.exit(3);
  }
  const certPath = join(opts.dataDir, 'cert.pem');
  const keyPath = join(opts.dataDir, 'key.pem');
  const tls = opts.securePort !== undefined && existsSync(certPath) && existsSync(keyPath)
    ? { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') } : undefined;
  // The service-account signing key `up` wrote (see SERVICE_ACCOUNT_KEY_FILE).
  const saKeyPath = join(opts.dataDir, SERVICE_ACCOUNT_KEY_FILE);
  const tokenIssuer = existsSync(saKeyPath) ? new TokenIssuer(readFileSync(saKeyPath, 'utf8')) : undefined;
  const server = await startApiServer({
    store, resources: RESOURCES, host: opts.host, port: opts.port, token, ...(tls ? { tls, securePort: opts.securePort } : {}),
    tokenIssuer,
    // Kubernetes' default admission order, for the plugins minikube-lite has.
    // Kubernetes' order: LimitRanger first, ResourceQuota last.
    admission: [limitRangerAdmission, serviceAccountAdmission, defaultStorageClassAdmission, storageProtectionAdmission, defaultIngressClassAdmission, resourceQuotaAdmission],
    serviceCIDR: opts.serviceCIDR, nodePortRange: opts.nodePortRange, trace: tracingEnabled(),
  });
  const client = new ApiClient({ server: server.url, token, userAgent: componentUserAgent('kube-controller-manager') });
  const schedulerClient = new ApiClient({ server: server.url, token, userAgent: componentUserAgent('kube-scheduler') });
  const scheduler = new Scheduler({ client: schedulerClient, log: log('scheduler'), tracer: componentTracer(schedulerClient, 'default-scheduler') });
  await scheduler.start();
  const controllers = await startControllers({
    client, log: log('controller-manager'), tracer: componentTracer(client, 'kube-controller-manager'),
    ...(tls ? { rootCA: tls.cert } : {}),
    ...(tokenIssuer ? { tokenSigner: tokenIssuer } : {}),
    volumeDirectories: new LocalHostDirectories(join(opts.dataDir, 'volumes')),
    nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
    hpaSyncPeriodMs: opts.hpaSyncPeriodMs, hpaDownscaleStabilizationMs: opts.hpaDownscaleStabilizationMs,
    ...(opts.ingress ? { ingress: { ...opts.ingress, confDir: join(opts.dataDir, 'ingress-nginx') } } : {}),
  });
  const pruner = startTracePruner(client, { log: log('trace-pruner') });
  const dashboard = await startDashboard({ apiServer: server.url, token, staticDir: DASHBOARD_STATIC_DIR });
  writeDashboardInfo(opts.dataDir, dashboard.url);
  log('controlplane')(`API server listening on ${server.url}${server.secureUrl ? ` and ${server.secureUrl}` : ''}`);
  onShutdown(async () => {
    pruner.stop();
    await dashboard.close();
    await controllers.stop();
    await scheduler.stop();
    await server.close();
    store.close();
  });
}

/** One node's kubelet, driving the local Docker engine. */
export async function runKubelet(opts: {
  cluster: string; node: string; podCIDR: string; clusterCIDR?: string; server: string; tokenFile: string; labels: Record<string, string>;
  cpu?: string; memory?: string; backoff?: BackoffPolicy; heartbeatMs?: number;
  clusterDNS?: string[]; clusterDomain?: string; resolvConf?: string; rootDir?: string; taints?: Taint[];
}): Promise<void> {
  await lockComponent(opts.cluster, `kubelet-${opts.node}`);
  const token = componentToken(opts.tokenFile);
  // Loaded here so that the control plane and the CLI never pay for dockerode's start-up.
  const { DockerRuntime } = await import('../runtime/docker.js');
  const runtime = new DockerRuntime({ clusterLabel: opts.cluster, socketPath: dockerSocket() });
  const { Kubelet } = await import('../kubelet/kubelet.js');
  const client = new ApiClient({ server: opts.server, token, userAgent: componentUserAgent('kubelet') });
  const kubelet = new Kubelet({
    client, runtime, cluster: opts.cluster, nodeName: opts.node, podCIDR: opts.podCIDR, clusterCIDR: opts.clusterCIDR, token,
    nodeLabels: opts.labels, nodeTaints: opts.taints, capacity: { cpu: opts.cpu, memory: opts.memory }, backoff: opts.backoff, heartbeatMs: opts.heartbeatMs, log: log(`kubelet[${opts.node}]`),
    clusterDNS: opts.clusterDNS, clusterDomain: opts.clusterDomain, resolvConf: opts.resolvConf, rootDir: opts.rootDir,
    tracer: componentTracer(client, 'kubelet', opts.node),
    // `up` starts it beside the API server: its network is made meanwhile, then it waits.
    apiReadyTimeoutMs: API_READY_TIMEOUT_MS,
  });
  await kubelet.start();
  log(`kubelet[${opts.node}]`)(`node ${opts.node} registered (${opts.podCIDR})`);
  onShutdown(() => kubelet.stop());
}

/** The cluster DNS server (see src/dns): answers on `listen` and publishes the kube-dns Service. */
export async function runDns(opts: {
  cluster: string; server: string; tokenFile: string; listen: string[]; port: number; serviceIP?: string; domain: string; ttl: number; upstream?: string;
}): Promise<void> {
  await lockComponent(opts.cluster, 'dns');
  const token = componentToken(opts.tokenFile);
  const { ClusterDns } = await import('../dns/dns.js');
  const { parseUpstream } = await import('../dns/server.js');
  if (opts.listen.some((a) => a === '0.0.0.0' || a === '::')) throw new CliError('--listen: the DNS server answers on the cluster\'s own addresses only, never on every interface');
  let upstream;
  try {
    upstream = opts.upstream ? parseUpstream(opts.upstream) : undefined;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const client = new ApiClient({ server: opts.server, token });
  await client.waitUntilReady(API_READY_TIMEOUT_MS);
  const dns = new ClusterDns({
    client, listen: opts.listen, port: opts.port, serviceIP: opts.serviceIP, domain: opts.domain, ttl: opts.ttl, upstream, log: log('dns'),
  });
  onShutdown(() => dns.stop());
  await dns.start();
  log('dns')(`serving ${opts.domain} on ${dns.listening.map((l) => `${l.address}:${l.port}`).join(', ')}${upstream ? `, forwarding other names to ${upstream.host}:${upstream.port}` : ''}`);
}

/**
 * The service proxy of this host (`minikube-lite proxy`): Services → iptables rules, routes and
 * loopback relays. Serves `/healthz` on 127.0.0.1:`healthzPort` (200 once the first sync is
 * done, with the time of the last one, as kube-proxy's healthz does).
 */
export async function runProxy(opts: {
  cluster: string; server: string; tokenFile: string; serviceCIDR: string; clusterCIDR: string; listenAddress: string;
  apiSecurePort?: number; localNodes?: string[]; healthzPort?: number;
}): Promise<void> {
  await lockComponent(opts.cluster, 'proxy');
  const token = componentToken(opts.tokenFile);
  const { Proxier } = await import('../proxy/proxier.js');
  const { LinuxHostNetwork } = await import('../runtime/hostnet.js');
  const { createServer } = await import('node:http');
  const client = new ApiClient({ server: opts.server, token });
  // `up` starts this process beside the API server: wait for it rather than fail the first list.
  await client.waitUntilReady(API_READY_TIMEOUT_MS);
  const proxier = new Proxier({
    client, host: new LinuxHostNetwork(), cluster: opts.cluster, serviceCIDR: opts.serviceCIDR, clusterCIDR: opts.clusterCIDR,
    listenAddress: opts.listenAddress, apiSecurePort: opts.apiSecurePort, localNodes: opts.localNodes, log: log('proxy'),
  });
  const healthz = createServer((req, res) => {
    const s = proxier.status;
    res.writeHead(s.lastSync ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ lastUpdated: s.lastSync?.toISOString() ?? null, syncs: s.syncs, rules: s.rules, lastError: s.lastError ?? null }));
  });
  if (opts.healthzPort !== undefined) await new Promise<void>((r) => healthz.listen(opts.healthzPort, '127.0.0.1', () => r()));
  onShutdown(async () => {
    healthz.close();
    await proxier.stop();
  });
  await proxier.start();
  log('proxy')(`programmed ${proxier.status.rules} rules for service CIDR ${opts.serviceCIDR} (pods ${opts.clusterCIDR}); relays on ${opts.listenAddress}`);
}
