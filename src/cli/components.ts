/**
 * Entry points of the cluster's long-running components, each started as its own process by
 * `up` (`minikube-lite controlplane …`, `minikube-lite kubelet …`). They reach each other only
 * through the API server's HTTP API.
 */
import type { Taint } from 'kubernetes-types/core/v1.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCES } from '../api/registry.js';
import { startApiServer } from '../apiserver/server.js';
import { ApiClient } from '../client/client.js';
import type { BackoffPolicy } from '../kubelet/backoff.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { startControllers } from '../controllers/manager.js';
import { openSqliteStore } from '../store/sqlite.js';
import { dockerSocket } from './context.js';

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

/** The control plane: API server (with its SQLite store), scheduler and controller manager. */
export async function runControlPlane(opts: {
  dataDir: string; port: number; securePort?: number; token: string; host: string;
  nodeMonitorGracePeriodMs?: number; podEvictionTimeoutMs?: number;
}): Promise<void> {
  mkdirSync(opts.dataDir, { recursive: true });
  const store = openSqliteStore(join(opts.dataDir, 'state.db'));
  const certPath = join(opts.dataDir, 'cert.pem');
  const keyPath = join(opts.dataDir, 'key.pem');
  const tls = opts.securePort !== undefined && existsSync(certPath) && existsSync(keyPath)
    ? { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') } : undefined;
  const server = await startApiServer({
    store, resources: RESOURCES, host: opts.host, port: opts.port, token: opts.token, ...(tls ? { tls, securePort: opts.securePort } : {}),
  });
  const client = new ApiClient({ server: server.url, token: opts.token });
  const scheduler = new Scheduler({ client, log: log('scheduler') });
  await scheduler.start();
  const controllers = await startControllers({
    client, log: log('controller-manager'),
    nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
  });
  log('controlplane')(`API server listening on ${server.url}${server.secureUrl ? ` and ${server.secureUrl}` : ''}`);
  onShutdown(async () => {
    await controllers.stop();
    await scheduler.stop();
    await server.close();
    store.close();
  });
}

/** One node's kubelet, driving the local Docker engine. */
export async function runKubelet(opts: {
  cluster: string; node: string; podCIDR: string; clusterCIDR?: string; server: string; token: string; labels: Record<string, string>;
  cpu?: string; memory?: string; backoff?: BackoffPolicy; heartbeatMs?: number; taints?: Taint[];
}): Promise<void> {
  // Loaded here so that the control plane and the CLI never pay for dockerode's start-up.
  const { DockerRuntime } = await import('../runtime/docker.js');
  const runtime = new DockerRuntime({ clusterLabel: opts.cluster, socketPath: dockerSocket() });
  const { Kubelet } = await import('../kubelet/kubelet.js');
  const client = new ApiClient({ server: opts.server, token: opts.token });
  const kubelet = new Kubelet({
    client, runtime, cluster: opts.cluster, nodeName: opts.node, podCIDR: opts.podCIDR, clusterCIDR: opts.clusterCIDR, token: opts.token,
    nodeLabels: opts.labels, nodeTaints: opts.taints, capacity: { cpu: opts.cpu, memory: opts.memory }, backoff: opts.backoff, heartbeatMs: opts.heartbeatMs, log: log(`kubelet[${opts.node}]`),
  });
  await kubelet.start();
  log(`kubelet[${opts.node}]`)(`node ${opts.node} registered (${opts.podCIDR})`);
  onShutdown(() => kubelet.stop());
}
