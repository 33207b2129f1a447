#!/usr/bin/env node
/**
 * The `minikube-lite` command line. User commands read like kubectl's; `controlplane` and
 * `kubelet` are the long-running components that `up` starts in the background.
 */
import { Command } from 'commander';
import { ApiError } from '../api/errors.js';
import { RuntimeError } from '../runtime/types.js';
import { registerResourceCommands } from './commands/index.js';
import { exposeArgv } from './commands/expose.js';
import { formatApiError } from './print.js';
import { CliError, DEFAULT_CLUSTER, defaultHome, type GlobalOptions } from './context.js';
import { backoffPolicy, parseDuration, type BackoffPolicy } from '../kubelet/backoff.js';

const program = new Command();
program
  .name('minikube-lite')
  .description('A miniature Kubernetes that runs real containers on your Docker engine.\n\n' +
    'Quick start:\n  minikube-lite up\n  minikube-lite apply -f examples/nginx-pod.yaml\n  minikube-lite get pods -o wide\n' +
    '  minikube-lite debug -- wget -qO- http://<pod-ip>/\n  minikube-lite down')
  .version('0.1.0')
  .option('--name <cluster>', 'cluster name (several clusters can run side by side)', process.env.MINIKUBE_LITE_CLUSTER || DEFAULT_CLUSTER)
  .option('--home <dir>', 'where client configs and cluster state live', defaultHome())
  .option('-n, --namespace <ns>', 'namespace for this request', 'default')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

const globals = (): GlobalOptions => {
  const o = program.opts<{ name: string; home: string; namespace: string }>();
  return { name: o.name, home: o.home, namespace: o.namespace };
};
const print = (line: string) => process.stdout.write(line + '\n');

/** The kubelet's restart back-off from `--backoff-base`/`--backoff-cap` durations; a bad value is a CliError. */
function restartBackoff(base: string, cap: string): BackoffPolicy {
  try {
    return backoffPolicy(parseDuration(base), parseDuration(cap));
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** `up --kubelet-backoff-base/-cap` as kubelet arguments, checked before any process starts. */
function kubeletBackoffArgs(base: string | undefined, cap: string | undefined): string[] {
  if (base === undefined && cap === undefined) return [];
  restartBackoff(base ?? '10s', cap ?? '5m');
  return [...(base !== undefined ? ['--backoff-base', base] : []), ...(cap !== undefined ? ['--backoff-cap', cap] : [])];
}

program.command('up')
  .description('Start a cluster: the control plane, one Docker network and kubelet per node')
  .option('--nodes <n>', 'number of nodes', (v) => Number(v), 2)
  .option('--node-labels <spec>', 'labels for a node, NODE:KEY=VALUE[,KEY=VALUE] (repeatable), e.g. node-2:gpu=true',
    (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--port <port>', 'API server port on 127.0.0.1 (default: a free port)', (v) => Number(v))
  .option('--pod-cidr <cidr>', 'cluster pod CIDR, a /16 (default: the first free 10.x.0.0/16 from 10.244.0.0/16)')
  .option('--service-cidr <cidr>', 'cluster service CIDR for ClusterIPs, a /16 (default: 10.96.0.0/16, or the next free 10.x.0.0/16 when another cluster has it)')
  .option('--listen-address <ip>', 'where NodePorts and LoadBalancer ports are served on this host (default 127.0.0.1)')
  .option('--node-cpu <cpu>', 'CPU capacity each node reports (default: the machine\'s cores)')
  .option('--node-memory <mem>', 'memory capacity each node reports, e.g. 4Gi (default: the machine\'s memory)')
  .option('--wait <seconds>', 'how long to wait for the cluster to be ready', (v) => Number(v), 60)
  .option('--node-monitor-grace-period <duration>', 'how long a node may miss heartbeats before it is NotReady (default 40s)')
  .option('--pod-eviction-timeout <duration>', 'how long pods stay on a NotReady node before they are evicted (default 5m)')
  .option('--hpa-sync-period <duration>', 'how often the horizontal pod autoscaler evaluates each HPA (default 15s)')
  .option('--hpa-downscale-stabilization <duration>', 'scale-down stabilisation window of HPAs whose behavior sets none (default 5m)')
  .option('--node-status-update-frequency <duration>', 'how often each kubelet posts its node status heartbeat (default 10s)')
  .option('--kubelet-backoff-base <duration>', 'first container restart back-off of every kubelet, e.g. 10s (default 10s)')
  .option('--kubelet-backoff-cap <duration>', 'longest container restart back-off of every kubelet, e.g. 5m (default 5m)')
  .option('--upstream-dns <ip[:port]>', 'resolver the cluster DNS forwards names outside cluster.local to (default: none, they get NXDOMAIN)')
  .option('--ingress-port <port>', 'HTTP port of the ingress controller on the listen address (default: a free port)', (v) => Number(v))
  .option('--ingress-tls-port <port>', 'HTTPS port of the ingress controller on the listen address (default: a free port)', (v) => Number(v))
  .addHelpText('after', '\nExamples:\n  minikube-lite up\n  minikube-lite up --nodes 3 --node-labels node-2:gpu=true\n  minikube-lite --name dev up --pod-cidr 10.250.0.0/16')
  .action(async (o: { nodes: number; nodeLabels: string[]; port?: number; podCidr?: string; serviceCidr?: string; listenAddress?: string; nodeCpu?: string; nodeMemory?: string; wait: number;
    kubeletBackoffBase?: string; kubeletBackoffCap?: string; nodeMonitorGracePeriod?: string; podEvictionTimeout?: string; nodeStatusUpdateFrequency?: string;
    hpaSyncPeriod?: string; hpaDownscaleStabilization?: string;
    upstreamDns?: string; ingressPort?: number; ingressTlsPort?: number }) => {
    const ms = (flag: string, v?: string) => {
      if (v === undefined) return [];
      try {
        return [flag, String(parseDuration(v))];
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    };
    if (o.upstreamDns !== undefined) {
      const { parseUpstream } = await import('../dns/server.js');
      try {
        parseUpstream(o.upstreamDns);
      } catch (e) {
        throw new CliError(`--upstream-dns: ${(e as Error).message}`);
      }
    }
    const { up } = await import('./cluster.js');
    await up(globals(), {
      nodes: o.nodes, nodeLabels: o.nodeLabels, port: o.port, podCidr: o.podCidr, serviceCidr: o.serviceCidr, listenAddress: o.listenAddress, nodeCpu: o.nodeCpu, nodeMemory: o.nodeMemory, waitMs: o.wait * 1000,
      controlPlaneArgs: [...ms('--node-monitor-grace-period-ms', o.nodeMonitorGracePeriod), ...ms('--pod-eviction-timeout-ms', o.podEvictionTimeout),
        ...ms('--hpa-sync-period-ms', o.hpaSyncPeriod), ...ms('--hpa-downscale-stabilization-ms', o.hpaDownscaleStabilization)],
      kubeletArgs: [...kubeletBackoffArgs(o.kubeletBackoffBase, o.kubeletBackoffCap), ...ms('--node-status-update-frequency-ms', o.nodeStatusUpdateFrequency)],
      upstreamDns: o.upstreamDns, ingressPort: o.ingressPort, ingressTlsPort: o.ingressTlsPort,
    }, print);
  });

program.command('down')
  .description('Stop the cluster and remove every container, network and volume it made')
  .action(async () => (await import('./cluster.js')).down(globals(), print));

program.command('stop')
  .description('Stop the cluster\'s processes and containers, keeping the cluster (store, certificates, networks, volumes) for "start"')
  .addHelpText('after', '\nLike "minikube stop": the machine is switched off, nothing is deleted. "down" deletes.\n\nExample:\n  minikube-lite stop && minikube-lite start')
  .action(async () => (await import('./stopstart.js')).stopCluster(globals(), print));

program.command('start')
  .description('Start a stopped cluster again: every object is kept, every pod restarts in a new sandbox')
  .option('--wait <seconds>', 'how long to wait for the nodes and pods to be back', (v) => Number(v), 180)
  .addHelpText('after', '\nAs after a node reboot in Kubernetes: each pod keeps its name, uid and emptyDir data, gets a new\n' +
    'sandbox (new IP), and its containers start again with their restart count + 1.\n\nExample:\n  minikube-lite start')
  .action(async (o: { wait: number }) => (await import('./stopstart.js')).startCluster(globals(), { waitMs: o.wait * 1000 }, print));

program.command('status')
  .description('Show whether the cluster\'s control plane and kubelets are running')
  .action(async () => {
    if (!(await (await import('./cluster.js')).status(globals(), print))) process.exitCode = 1;
  });

const node = program.command('node').description('Add and remove nodes, or simulate losing a node and getting it back');
node.command('stop <name>')
  .description('Stop a node: its kubelet stops heartbeating and its containers stop, as if its machine powered off')
  .option('--keep-containers', 'stop only the kubelet (a kubelet crash); the containers keep running')
  .addHelpText('after', '\nThe node turns NotReady after the node monitor grace period (40s by default), and its pods are\n' +
    'evicted after the pod eviction timeout, so their ReplicaSets replace them on other nodes.\n\nExample:\n  minikube-lite node stop node-2')
  .action(async (name: string, o: { keepContainers?: boolean }) => (await import('./cluster.js')).nodeStop(globals(), name, o.keepContainers === true, print));
node.command('start <name>')
  .description('Start a stopped node\'s kubelet again; it re-registers and cleans up stale containers')
  .option('--wait <seconds>', 'how long to wait for the node to be Ready', (v) => Number(v), 60)
  .addHelpText('after', '\nExample:\n  minikube-lite node start node-2')
  .action(async (name: string, o: { wait: number }) => (await import('./cluster.js')).nodeStart(globals(), name, o.wait * 1000, print));

node.command('add [name]')
  .description('Add a node to the running cluster: a new Docker network with the next pod subnet, a kubelet, the Node object')
  .option('--labels <k=v,...>', 'labels of the new node (repeatable or comma-separated)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--taints <k=v:Effect,...>', 'taints the new node registers with, e.g. dedicated=gpu:NoSchedule (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--wait <seconds>', 'how long to wait for the node to be Ready', (v) => Number(v), 60)
  .addHelpText('after', '\nExamples:\n  minikube-lite node add\n  minikube-lite node add node-4 --labels disk=ssd --taints dedicated=gpu:NoSchedule')
  .action(async (name: string | undefined, o: { labels: string[]; taints: string[]; wait: number }) =>
    (await import('./nodes.js')).nodeAdd(globals(), name, o.labels.join(','), o.taints.join(','), o.wait * 1000, print));
node.command('delete <name>')
  .description('Remove a node from the running cluster: drain it, stop its kubelet, remove its network and its Node object')
  .option('--timeout <seconds>', 'how long to wait for its pods to be evicted (PodDisruptionBudgets honoured) and to terminate', (v) => Number(v), 60)
  .addHelpText('after', '\nExample:\n  minikube-lite node delete node-4')
  .action(async (name: string, o: { timeout: number }) => (await import('./nodes.js')).nodeDelete(globals(), name, o.timeout * 1000, print));

program.command('controlplane', { hidden: true })
  .description('Run the API server and scheduler (started by "up")')
  .requiredOption('--port <port>', 'API server port', (v) => Number(v))
  .requiredOption('--token-file <path>', 'file (mode 0600) holding the bearer token; never pass the token itself on a command line')
  .requiredOption('--data-dir <dir>', 'where the store lives')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--secure-port <port>', 'also serve HTTPS (for kubectl) on this port, with <data-dir>/cert.pem', (v) => Number(v))
  .option('--node-monitor-grace-period-ms <ms>', 'node lifecycle: heartbeat grace period', (v) => Number(v))
  .option('--pod-eviction-timeout-ms <ms>', 'node lifecycle: eviction delay', (v) => Number(v))
  .option('--hpa-sync-period-ms <ms>', 'horizontal pod autoscaler: sync period', (v) => Number(v))
  .option('--hpa-downscale-stabilization-ms <ms>', 'horizontal pod autoscaler: default scale-down stabilisation window', (v) => Number(v))
  .option('--service-cidr <cidr>', 'IPv4 CIDR Service ClusterIPs are allocated from', '10.96.0.0/16')
  .option('--service-node-port-range <range>', 'range node ports are allocated from', '30000-32767')
  .option('--ingress-port <port>', 'run the ingress controller, its LoadBalancer Service listening on this HTTP port', (v) => Number(v))
  .option('--ingress-tls-port <port>', 'HTTPS port of the ingress controller\'s Service (with --ingress-port)', (v) => Number(v))
  .action(async (o: { port: number; securePort?: number; tokenFile: string; dataDir: string; host: string; nodeMonitorGracePeriodMs?: number; podEvictionTimeoutMs?: number;
    hpaSyncPeriodMs?: number; hpaDownscaleStabilizationMs?: number;
    serviceCidr: string; serviceNodePortRange: string; ingressPort?: number; ingressTlsPort?: number }) => {
    const { runControlPlane } = await import('./components.js');
    await runControlPlane({
      cluster: globals().name, dataDir: o.dataDir, port: o.port, securePort: o.securePort, tokenFile: o.tokenFile, host: o.host,
      nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs, podEvictionTimeoutMs: o.podEvictionTimeoutMs,
      hpaSyncPeriodMs: o.hpaSyncPeriodMs, hpaDownscaleStabilizationMs: o.hpaDownscaleStabilizationMs,
      serviceCIDR: o.serviceCidr, nodePortRange: o.serviceNodePortRange,
      ...(o.ingressPort ? { ingress: { httpPort: o.ingressPort, httpsPort: o.ingressTlsPort ?? o.ingressPort + 1 } } : {}),
    });
  });

program.command('kubelet', { hidden: true })
  .description('Run one node\'s kubelet (started by "up")')
  .requiredOption('--node <name>', 'node name')
  .requiredOption('--pod-cidr <cidr>', 'the node\'s pod subnet')
  .option('--cluster-cidr <cidr>', 'the cluster\'s pod CIDR (pods of all nodes reach each other in it)')
  .requiredOption('--server <url>', 'API server URL')
  .requiredOption('--token-file <path>', 'file (mode 0600) holding the bearer token; never pass the token itself on a command line')
  .option('--labels <k=v,...>', 'node labels', '')
  .option('--cpu <cpu>', 'CPU capacity to report')
  .option('--memory <mem>', 'memory capacity to report')
  .option('--backoff-base <duration>', 'first container restart back-off, e.g. 10s or 500ms', '10s')
  .option('--backoff-cap <duration>', 'longest container restart back-off, e.g. 5m', '5m')
  .option('--node-status-update-frequency-ms <ms>', 'heartbeat period', (v) => Number(v))
  .option('--cluster-dns <ips>', 'comma-separated cluster DNS server IPs for pods with dnsPolicy ClusterFirst')
  .option('--cluster-domain <domain>', 'the cluster domain pods search', 'cluster.local')
  .option('--resolv-conf <path>', 'resolver file dnsPolicy Default pods inherit ("" for none)', '/etc/resolv.conf')
  .option('--root-dir <dir>', 'where the kubelet keeps per-pod files (etc-hosts, resolv.conf)')
  .option('--register-with-taints <k=v:Effect,...>', 'taints the node registers with', '')
  .action(async (o: { node: string; podCidr: string; server: string; tokenFile: string; labels: string; cpu?: string; memory?: string; clusterCidr?: string;
    backoffBase: string; backoffCap: string; nodeStatusUpdateFrequencyMs?: number; clusterDns?: string; clusterDomain: string; resolvConf: string; rootDir?: string; registerWithTaints: string }) => {
    const labels = Object.fromEntries(o.labels.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const backoff = restartBackoff(o.backoffBase, o.backoffCap);
    const { runKubelet } = await import('./components.js');
    const { parseTaints } = await import('./nodes.js');
    await runKubelet({
      cluster: globals().name, node: o.node, podCIDR: o.podCidr, clusterCIDR: o.clusterCidr, server: o.server, tokenFile: o.tokenFile, labels, cpu: o.cpu, memory: o.memory, backoff,
      heartbeatMs: o.nodeStatusUpdateFrequencyMs, clusterDNS: (o.clusterDns ?? '').split(',').map((x) => x.trim()).filter(Boolean), clusterDomain: o.clusterDomain,
      resolvConf: o.resolvConf, rootDir: o.rootDir, taints: parseTaints(o.registerWithTaints),
    });
  });

program.command('dns', { hidden: true })
  .description('Run the cluster DNS server (started by "up")')
  .requiredOption('--server <url>', 'API server URL')
  .requiredOption('--token-file <path>', 'file (mode 0600) holding the bearer token; never pass the token itself on a command line')
  .requiredOption('--listen <addresses>', 'comma-separated addresses of this host on the cluster\'s networks to answer on')
  .option('--port <port>', 'port to answer on (UDP and TCP)', (v) => Number(v), 53)
  .option('--cluster-dns <ip>', 'ClusterIP to create the kube-system/kube-dns Service with (its endpoints are the listen addresses)')
  .option('--cluster-domain <domain>', 'the cluster domain', 'cluster.local')
  .option('--ttl <seconds>', 'TTL of the records served', (v) => Number(v), 30)
  .option('--upstream <ip[:port]>', 'resolver to forward names outside the cluster domain to (default: answer NXDOMAIN)')
  .action(async (o: { server: string; tokenFile: string; listen: string; port: number; clusterDns?: string; clusterDomain: string; ttl: number; upstream?: string }) => {
    const { runDns } = await import('./components.js');
    await runDns({
      cluster: globals().name, server: o.server, tokenFile: o.tokenFile, listen: o.listen.split(',').map((a) => a.trim()).filter(Boolean), port: o.port,
      serviceIP: o.clusterDns, domain: o.clusterDomain, ttl: o.ttl, upstream: o.upstream,
    });
  });

program.command('proxy', { hidden: true })
  .description('Run the service proxy of this host (started by "up")')
  .requiredOption('--server <url>', 'API server URL')
  .requiredOption('--token-file <path>', 'file (mode 0600) holding the bearer token; never pass the token itself on a command line')
  .requiredOption('--service-cidr <cidr>', 'the cluster\'s service CIDR')
  .requiredOption('--cluster-cidr <cidr>', 'the cluster\'s pod CIDR')
  .option('--listen-address <ip>', 'where NodePorts, LoadBalancer and loopback relays listen', '127.0.0.1')
  .option('--api-secure-port <port>', 'the API server\'s HTTPS port on 127.0.0.1 (endpoint of the kubernetes Service)', (v) => Number(v))
  .option('--nodes <names>', 'the nodes on this host (default: all nodes)')
  .option('--healthz-port <port>', 'serve /healthz on 127.0.0.1:PORT', (v) => Number(v))
  .action(async (o: { server: string; tokenFile: string; serviceCidr: string; clusterCidr: string; listenAddress: string; apiSecurePort?: number; nodes?: string; healthzPort?: number }) => {
    const { runProxy } = await import('./components.js');
    await runProxy({
      cluster: globals().name, server: o.server, tokenFile: o.tokenFile, serviceCIDR: o.serviceCidr, clusterCIDR: o.clusterCidr, listenAddress: o.listenAddress,
      apiSecurePort: o.apiSecurePort, localNodes: o.nodes?.split(',').filter(Boolean), healthzPort: o.healthzPort,
    });
  });

registerResourceCommands(program, globals);

/** User mistakes print one line and exit 1; anything else is a bug and keeps its stack. */
function report(e: unknown): never {
  if (e instanceof ApiError) process.stderr.write(formatApiError(e) + '\n');
  else if (e instanceof CliError) process.stderr.write(`error: ${e.message}\n`);
  else if (e instanceof RuntimeError) process.stderr.write(`error: ${e.message}\n`);
  else process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(e instanceof CliError ? e.exitCode : 1);
}

program.parseAsync(exposeArgv(process.argv)).catch(report);
