/**
 * `node add [NAME] [--labels k=v] [--taints k=v:Effect]` and `node delete NAME` on a running
 * cluster. Adding starts one more kubelet (its own Docker network with the next free pod
 * subnet; it registers the Node, with the taints, itself). Deleting drains the node as
 * `kubectl drain --ignore-daemonsets --delete-emptydir-data --force` would (cordon, then evict
 * every pod on it but those a DaemonSet owns through the eviction API, honouring
 * PodDisruptionBudgets, and wait until they are gone), stops the kubelet, removes what is left of its
 * containers and its network, deletes the pods still bound to it (the pod garbage collector's
 * job for pods of a node that no longer exists) and the Node object.
 */
import type { Taint } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import { LABEL_CLUSTER, LABEL_NODE } from '../api/types.js';
import { ApiClient, NODES, PODS } from '../client/client.js';
import { nodeNetworkName } from '../kubelet/naming.js';
import { connectRuntime, isUp, nodeCIDR, nodeReady, waitFor } from './cluster.js';
import { CliError, clusterDir, readClusterConfig, writeClusterConfig, type GlobalOptions } from './context.js';
import { spawnComponent, stopComponent } from './processes.js';
import { drainNode } from './drain.js';

type Out = (line: string) => void;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** `k=v:Effect,k2:Effect` → taints (kubectl taint's syntax); throws a CliError for a malformed one. */
export function parseTaints(spec: string): Taint[] {
  return spec.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(s);
    if (!m || !EFFECTS.includes(m[3])) throw new CliError(`invalid taint spec: ${s} (want key[=value]:Effect, Effect one of ${EFFECTS.join(', ')})`);
    return { key: m[1], ...(m[2] !== undefined && m[2] !== '' ? { value: m[2] } : {}), effect: m[3] };
  });
}

/** The pod subnet index of a node (`--pod-cidr 10.244.3.0/24` → 3). */
const subnetIndex = (args: readonly string[]): number => {
  const cidr = args[args.indexOf('--pod-cidr') + 1] ?? '';
  return Number(cidr.split('.')[2] ?? 0) || 0;
};

/** Replaces or adds `flag value` in a kubelet argument list. */
function withArg(args: string[], flag: string, value: string | undefined): string[] {
  const out = [...args];
  const i = out.indexOf(flag);
  if (i >= 0) out.splice(i, 2);
  if (value) out.push(flag, value);
  return out;
}

export async function nodeAdd(g: GlobalOptions, name: string | undefined, labels: string, taints: string, waitMs: number, out: Out): Promise<void> {
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg || !(await isUp(g))) throw new CliError(`cluster "${g.name}" is not running: start it with "minikube-lite up"`);
  const template = Object.values(cfg.kubeletArgs ?? {})[0];
  if (!template) throw new CliError(`cluster "${g.name}" has no node to copy the kubelet settings from`);
  parseTaints(taints);
  for (const kv of labels.split(',').filter(Boolean)) if (!kv.includes('=')) throw new CliError(`invalid label spec: ${kv} (want key=value)`);
  const used = Object.values(cfg.kubeletArgs ?? {}).map(subnetIndex);
  const index = Math.max(0, ...used) + 1;
  if (index > 254) throw new CliError('no free pod subnet left in the cluster CIDR');
  const numbered = cfg.nodes.map((n) => /^node-(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
  const node = name ?? `node-${Math.max(0, ...numbered) + 1}`;
  if (cfg.nodes.includes(node)) throw new CliError(`node "${node}" already exists`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(node) || node.length > 63) throw new CliError(`invalid node name "${node}": must be a lowercase RFC 1123 label`);
  const subnet = nodeCIDR(cfg.podCIDR, index);
  let args = withArg(template, '--node', node);
  args = withArg(args, '--pod-cidr', subnet);
  args = withArg(args, '--labels', labels);
  args = withArg(args, '--register-with-taints', taints);
  const dir = clusterDir(g.home, g.name);
  const started = Date.now();
  writeClusterConfig(g.home, {
    ...cfg, nodes: [...cfg.nodes, node], kubeletArgs: { ...(cfg.kubeletArgs ?? {}), [node]: args },
    ...(cfg.components ? { components: [...cfg.components, { id: `kubelet-${node}`, args, gate: 'nodes' as const }] } : {}),
  });
  spawnComponent(dir, `kubelet-${node}`, args);
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  await waitFor(`node ${node} to be Ready`, Date.now() + waitMs, async () => (await nodeReady(client, node)).startsWith('Ready'), `${dir}/kubelet-${node}.log`);
  out(`* Node ${node} added (${subnet}) and Ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

export async function nodeDelete(g: GlobalOptions, node: string, timeoutMs: number, out: Out): Promise<void> {
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg || !(await isUp(g))) throw new CliError(`cluster "${g.name}" is not running: start it with "minikube-lite up"`);
  if (!cfg.nodes.includes(node)) throw new CliError(`node "${node}" not found (nodes: ${cfg.nodes.join(', ')})`);
  if (cfg.nodes.length === 1) throw new CliError(`node "${node}" is the cluster's last node; use "minikube-lite down" instead`);
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  const dir = clusterDir(g.home, g.name);
  // Drain through the eviction API, as `kubectl drain --ignore-daemonsets --delete-emptydir-data --force`
  // would: every PodDisruptionBudget is honoured (a refused eviction is retried until the timeout).
  const registered = await client.get<Node & KubeObject>(NODES, node).then(() => true, (e: unknown) => {
    if (e instanceof ApiError && e.code === 404) return false;
    throw e;
  });
  try {
    // A node whose kubelet never registered has nothing scheduled on it to drain.
    if (registered) await drainNode(client, node, { ignoreDaemonSets: true, deleteEmptyDirData: true, force: true, timeoutMs }, (line) => out(`  ${line}`));
  } catch (e) {
    if (e instanceof CliError) {
      throw new CliError(`node "${node}" was not deleted: ${e.message}. If a PodDisruptionBudget holds its pods, scale the workload up or relax ` +
        `the budget, or retry with a larger --timeout; the node stays cordoned ("minikube-lite uncordon ${node}" undoes that)`);
    }
    throw e;
  }
  out(`* node/${node} drained`);
  // The node goes: kubelet, containers, network, then the API objects.
  await stopComponent(dir, g.name, `kubelet-${node}`);
  const runtime = await connectRuntime(g.name);
  const filter = { [LABEL_CLUSTER]: g.name, [LABEL_NODE]: node };
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes(filter), runtime.listContainers(filter)]);
  await Promise.all(containers.map((c) => runtime.removeContainer(c.id)));
  await Promise.all(sandboxes.map((s) => runtime.removePodSandbox(s.id)));
  const volumes = await runtime.listVolumes(filter);
  await Promise.all(volumes.map((v) => runtime.removeVolume(v.name)));
  await runtime.removeNetwork(nodeNetworkName(g.name, node));
  const onNode = async () => (await client.list<Pod & KubeObject>(PODS, { fieldSelector: `spec.nodeName=${node}` })).items;
  for (const p of await onNode()) {
    try {
      await client.delete({ ...PODS, namespace: p.metadata?.namespace }, p.metadata?.name ?? '', { gracePeriodSeconds: 0 });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  try {
    await client.delete<Node & KubeObject>(NODES, node);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  const { [node]: _gone, ...kubeletArgs } = cfg.kubeletArgs ?? {};
  writeClusterConfig(g.home, {
    ...cfg, nodes: cfg.nodes.filter((n) => n !== node), kubeletArgs,
    ...(cfg.components ? { components: cfg.components.filter((c) => c.id !== `kubelet-${node}`) } : {}),
  });
  out(`* Node ${node} deleted: ${containers.length + sandboxes.length} containers and its network removed`);
}
