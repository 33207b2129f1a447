/**
 * `top nodes` and `top pods`: resource usage from the metrics API (`metrics.k8s.io/v1beta1`), in
 * kubectl's columns and units — CPU in millicores (`12m`), memory in MiB (`34Mi`), node
 * percentages of allocatable. `top pods` takes `-A`, `-l` and `--containers` as kubectl does.
 */
import { Command } from 'commander';
import { parseQuantity } from '../../api/quantity.js';
import type { KubeObject, Node } from '../../api/types.js';
import { NODES, NODE_METRICS, PODS, POD_METRICS } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { formatTable } from '../print.js';
import type { CommandDeps } from './shared.js';


type Usage = Record<string, string>;
interface NodeMetrics extends KubeObject { usage?: Usage }
interface PodMetrics extends KubeObject { containers?: { name: string; usage?: Usage }[] }

/** A quantity's milli-value rounded up (Go's `Quantity.MilliValue`). */
const milli = (v: string | undefined): number => {
  const q = parseQuantity(v ?? '0');
  if (!q.ok) return 0;
  const n = q.quantity.nanos;
  return Number(n / 1_000_000n + (n % 1_000_000n > 0n ? 1n : 0n));
};
/** A quantity's value rounded up (Go's `Quantity.Value`). */
const whole = (v: string | undefined): number => {
  const q = parseQuantity(v ?? '0');
  if (!q.ok) return 0;
  const n = q.quantity.nanos;
  return Number(n / 1_000_000_000n + (n % 1_000_000_000n > 0n ? 1n : 0n));
};

export const cpuCell = (v: string | undefined): string => `${milli(v)}m`;
export const memoryCell = (v: string | undefined): string => `${Math.floor(whole(v) / (1024 * 1024))}Mi`;

/** The `top nodes` table (pure): one row per node, in the nodes' order (`<unknown>` without metrics). */
export function nodeTable(nodes: readonly Node[], metrics: readonly NodeMetrics[], showCapacity = false): string[][] {
  const byName = new Map(metrics.map((m) => [m.metadata?.name ?? '', m]));
  const rows: string[][] = [['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']];
  for (const n of nodes) {
    const m = byName.get(n.metadata?.name ?? '');
    if (!m) {
      // As kubectl: a node whose kubelet did not answer is listed without numbers.
      rows.push([n.metadata?.name ?? '', '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
      continue;
    }
    const avail = (showCapacity ? n.status?.capacity : n.status?.allocatable) ?? {};
    const pct = (used: number, total: number): string => (total > 0 ? `${Math.floor((used * 100) / total)}%` : '<unknown>');
    rows.push([
      n.metadata?.name ?? '', cpuCell(m.usage?.cpu), pct(milli(m.usage?.cpu), milli(avail.cpu)),
      memoryCell(m.usage?.memory), pct(milli(m.usage?.memory), milli(avail.memory)),
    ]);
  }
  return rows;
}

/** The `top pods` table (pure). */
export function podTable(metrics: readonly PodMetrics[], o: { allNamespaces?: boolean; containers?: boolean; sum?: boolean }): string[][] {
  const head = [...(o.allNamespaces ? ['NAMESPACE'] : []), ...(o.containers ? ['POD'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'];
  const rows: string[][] = [head];
  let cpu = 0;
  let mem = 0;
  for (const m of metrics) {
    const ns = o.allNamespaces ? [m.metadata?.namespace ?? ''] : [];
    const cs = m.containers ?? [];
    if (o.containers) {
      for (const c of cs) rows.push([...ns, m.metadata?.name ?? '', c.name, cpuCell(c.usage?.cpu), memoryCell(c.usage?.memory)]);
    } else {
      const pc = cs.reduce((n, c) => n + milli(c.usage?.cpu), 0);
      const pm = cs.reduce((n, c) => n + whole(c.usage?.memory), 0);
      rows.push([...ns, m.metadata?.name ?? '', `${pc}m`, `${Math.floor(pm / (1024 * 1024))}Mi`]);
    }
    cpu += cs.reduce((n, c) => n + milli(c.usage?.cpu), 0);
    mem += cs.reduce((n, c) => n + whole(c.usage?.memory), 0);
  }
  if (o.sum) {
    const pad = head.length - 2;
    rows.push([...Array<string>(pad).fill(''), '________', '________']);
    rows.push([...Array<string>(pad).fill(''), `${cpu}m`, `${Math.floor(mem / (1024 * 1024))}Mi`]);
  }
  return rows;
}

const noMetricsApi = (e: unknown): never => {
  const code = (e as { code?: number }).code;
  if (code === 404) throw new CliError('Metrics API not available');
  throw e;
};

interface TopFlags { selector?: string; allNamespaces?: boolean; containers?: boolean; sum?: boolean; showCapacity?: boolean; noHeaders?: boolean }

export async function runTopNodes(deps: CommandDeps, globals: GlobalOptions, name: string | undefined, f: TopFlags): Promise<void> {
  const client = deps.client(globals);
  const nodes = name ? [await client.get<Node>(NODES, name)] : (await client.list<Node>(NODES, { labelSelector: f.selector })).items;
  const metrics = name
    ? [await client.get<NodeMetrics>(NODE_METRICS, name).catch(noMetricsApi)]
    : (await client.list<NodeMetrics>(NODE_METRICS, { labelSelector: f.selector }).catch(noMetricsApi)).items;
  if (!metrics.length) throw new CliError('metrics not available yet');
  const rows = nodeTable(nodes, metrics, f.showCapacity);
  deps.io.out(formatTable(f.noHeaders ? rows.slice(1) : rows));
}

export async function runTopPods(deps: CommandDeps, globals: GlobalOptions, name: string | undefined, f: TopFlags): Promise<void> {
  const client = deps.client(globals);
  const namespace = f.allNamespaces ? undefined : globals.namespace;
  let metrics: PodMetrics[];
  if (name) {
    metrics = [await client.get<PodMetrics>({ ...POD_METRICS, namespace }, name).catch(noMetricsApi)];
  } else {
    metrics = (await client.list<PodMetrics>({ ...POD_METRICS, namespace }, { labelSelector: f.selector }).catch(noMetricsApi)).items;
    if (!metrics.length) {
      // As kubectl: say which pod has none, or that there are no pods.
      const pods = (await client.list<KubeObject>({ ...PODS, namespace }, { labelSelector: f.selector })).items;
      if (pods.length) {
        const p = pods[0];
        throw new CliError(`Metrics not available for pod ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}, age: ${ageOf(p, deps.io.now())}`);
      }
      deps.io.err(f.allNamespaces ? 'No resources found\n' : `No resources found in ${globals.namespace} namespace.\n`);
      return;
    }
  }
  const rows = podTable(metrics, { allNamespaces: f.allNamespaces, containers: f.containers, sum: f.sum });
  deps.io.out(formatTable(f.noHeaders ? rows.slice(1) : rows));
}

function ageOf(obj: KubeObject, now: number): string {
  const t = Date.parse(obj.metadata?.creationTimestamp ?? '');
  if (!Number.isFinite(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h${m}m${s % 60}s`;
}

/** The `top` command with its `node(s)` and `pod(s)` subcommands. */
export function topCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  const top = new Command('top')
    .summary('Display resource (CPU/memory) usage')
    .description('Display resource (CPU/memory) usage of nodes or pods, from the metrics API (metrics.k8s.io), which the API server\n' +
      'computes from the kubelets\' statistics.')
    .addHelpText('after', '\nExamples:\n  minikube-lite top nodes\n  minikube-lite top pods -A --containers');
  top.command('node [name]').alias('nodes').alias('no')
    .description('Display resource (CPU/memory) usage of nodes')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on')
    .option('--show-capacity', 'Print node resources based on Capacity instead of Allocatable(default) of the nodes.')
    .option('--no-headers', 'If present, print output without headers')
    .addHelpText('after', '\nExamples:\n  # Show metrics for all nodes\n  minikube-lite top node\n\n  # Show metrics for a given node\n  minikube-lite top node node-1')
    .action(async (name: string | undefined, o: { selector?: string; showCapacity?: boolean; headers?: boolean }) =>
      runTopNodes(deps, globals(), name, { selector: o.selector, showCapacity: o.showCapacity, noHeaders: o.headers === false }));
  top.command('pod [name]').alias('pods').alias('po')
    .description('Display resource (CPU/memory) usage of pods')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces')
    .option('--containers', 'If present, print usage of containers within a pod')
    .option('--sum', 'Print the sum of the resource usage')
    .option('--no-headers', 'If present, print output without headers')
    .addHelpText('after', '\nExamples:\n  # Show metrics for all pods in the default namespace\n  minikube-lite top pod\n\n' +
      '  # Show metrics for the pods defined by label name=myLabel, per container\n  minikube-lite top pod -l name=myLabel --containers')
    .action(async (name: string | undefined, o: { selector?: string; allNamespaces?: boolean; containers?: boolean; sum?: boolean; headers?: boolean }) => {
      if (name && (o.selector || o.allNamespaces)) throw new CliError(name && o.selector ? 'only one of NAME or --selector can be provided' : 'a resource cannot be retrieved by name across all namespaces');
      await runTopPods(deps, globals(), name, { ...o, noHeaders: o.headers === false });
    });
  return top;
}
