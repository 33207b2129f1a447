/**
 * Where a cluster's client config lives and how commands find it. `up` writes
 * `<home>/clusters/<name>/config.json` (server URL, token, nodes); every other command reads it.
 * `<home>` is `~/.minikube-lite` unless `--home` or MINIKUBE_LITE_HOME says otherwise.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, componentUserAgent } from '../client/client.js';

export const DEFAULT_CLUSTER = 'minikube-lite';

export interface GlobalOptions {
  name: string;
  home: string;
  namespace: string;
}

export interface ClusterConfig {
  name: string;
  server: string;
  token: string;
  apiPort: number;
  /** The HTTPS endpoint for kubectl (it sends tokens only over TLS), e.g. `https://127.0.0.1:43121`. */
  secureServer?: string;
  /** A kubeconfig for the real kubectl: `kubectl --kubeconfig <path> get pods`. */
  kubeconfig?: string;
  /** Cluster pod CIDR, e.g. `10.244.0.0/16`; node i gets `10.244.i.0/24`. */
  podCIDR: string;
  nodes: string[];
  /** Cluster service CIDR (ClusterIPs), e.g. `10.96.0.0/16`. Absent in configs written before Services. */
  serviceCIDR?: string;
  /** Where NodePorts and LoadBalancer ports listen on this host (`up --listen-address`, default 127.0.0.1). */
  listenAddress?: string;
  /** The service proxy's health endpoint, e.g. `http://127.0.0.1:40123/healthz`. */
  proxyHealthz?: string;
  /** The arguments the service proxy was started with, so `up` can restart a crashed one. */
  proxyArgs?: string[];
  /** The cluster DNS Service IP (kube-system/kube-dns), the 10th address of the service CIDR. */
  clusterDNS?: string;
  /** Where the cluster DNS forwards names outside the cluster domain (`up --upstream-dns`). */
  upstreamDNS?: string;
  /** The arguments the DNS process was started with, so `up` can restart a crashed one. */
  dnsArgs?: string[];
  /** Ports of the ingress controller's Service on the listen address (`up --ingress-port`, `--ingress-tls-port`). */
  ingressPort?: number;
  ingressTLSPort?: number;
  /** The arguments each node's kubelet was started with, so `node start` can start it again. */
  kubeletArgs?: Record<string, string[]>;
  /** The cluster's long-running processes and their arguments, as `up` first started them; `start` runs them again. */
  components?: { id: string; args: string[]; gate?: 'apiserver' | 'proxy' | 'nodes' | 'dns' }[];
  /** Set by `stop` (the processes and containers are stopped, the cluster kept); cleared by `start`/`up`. */
  stoppedAt?: string;
  createdAt: string;
}

export function defaultHome(): string {
  return process.env.MINIKUBE_LITE_HOME || join(homedir(), '.minikube-lite');
}

export function clusterDir(home: string, name: string): string {
  return join(home, 'clusters', name);
}

export function configPath(home: string, name: string): string {
  return join(clusterDir(home, name), 'config.json');
}

export function readClusterConfig(home: string, name: string): ClusterConfig | undefined {
  const p = configPath(home, name);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as ClusterConfig;
}

export function writeClusterConfig(home: string, cfg: ClusterConfig): void {
  mkdirSync(clusterDir(home, cfg.name), { recursive: true, mode: 0o700 });
  writeFileSync(configPath(home, cfg.name), JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
}

/** A user-facing failure: printed as `error: <message>` and exit code 1, no stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** The API client for the selected cluster, or a CliError telling the user to run `up`. */
export function clientFor(opts: GlobalOptions): { client: ApiClient; config: ClusterConfig } {
  const config = readClusterConfig(opts.home, opts.name);
  if (!config) {
    throw new CliError(`cluster "${opts.name}" is not running: start it with "minikube-lite up${opts.name === DEFAULT_CLUSTER ? '' : ' --name ' + opts.name}"`);
  }
  const onWarning = (w: string): void => void process.stderr.write(`Warning: ${w}\n`);
  return { client: new ApiClient({ server: config.server, token: config.token, onWarning, userAgent: componentUserAgent('minikube-lite') }), config };
}

/** The engine's socket: DOCKER_HOST when it names a unix socket, else Docker's default. */
export function dockerSocket(): string | undefined {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) throw new CliError(`DOCKER_HOST=${host} is not supported: minikube-lite drives a local engine through a unix socket (unix:///var/run/docker.sock)`);
  return undefined;
}
