/**
 * The resource metrics API, `metrics.k8s.io/v1beta1` (what metrics-server serves in Kubernetes
 * behind an APIService): `NodeMetrics` and `PodMetrics`, get and list, pods by namespace, both
 * with label selectors (and field selectors on the underlying Node/Pod). Nothing is stored:
 * each request reads the Nodes and Pods, asks the kubelets concerned for `/stats/summary` over
 * HTTP (the same addressing as logs and exec, see `kubeletAddress`) and answers from that.
 *
 * A kubelet that cannot be reached, or a pod it has no running container of, is left out of a
 * list (metrics-server does the same) and is 404 NotFound for a get.
 */
import http from 'node:http';
import { ApiError } from '../api/errors.js';
import { bytesQuantity, formatQuantity } from '../api/quantity.js';
import type { ResourceDef } from '../api/resource.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import type { ContainerStatsSummary, StatsSummary } from '../kubelet/stats.js';
import { kubeletAddress } from './pods.js';
import { rfc3339 } from './rest.js';
import type { ObjectFilter } from './selectors.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** How long one kubelet may take to answer (metrics-server's default scrape timeout is 10 s). */
const KUBELET_TIMEOUT_MS = 10_000;

export type ResourceList = { cpu: string; memory: string };

export interface NodeMetrics extends KubeObject {
  timestamp: string;
  window: string;
  usage: ResourceList;
}

export interface PodMetrics extends KubeObject {
  timestamp: string;
  window: string;
  containers: { name: string; usage: ResourceList }[];
}

/** CPU in nano-cores and memory in bytes as the quantities metrics-server writes (`12345n`, `2Mi`). */
export function usageOf(nanoCores: number, workingSetBytes: number): ResourceList {
  return {
    cpu: formatQuantity({ nanos: BigInt(Math.max(0, Math.round(nanoCores))), format: 'DecimalSI' }),
    memory: formatQuantity(bytesQuantity(Math.max(0, workingSetBytes))),
  };
}

/** A Go duration string for whole or fractional seconds (`15s`, `1.5s`). */
const windowOf = (seconds: number): string => `${Number(seconds.toFixed(3))}s`;

const identity = (obj: KubeObject, namespaced: boolean, now: string): KubeObject['metadata'] => {
  const m = obj.metadata ?? {};
  return {
    name: m.name,
    ...(namespaced ? { namespace: m.namespace } : {}),
    creationTimestamp: now,
    ...(m.labels ? { labels: { ...m.labels } } : {}),
  };
};

/** The NodeMetrics of `node` from its kubelet's summary. */
export function nodeMetrics(node: Node, summary: StatsSummary, now: string): NodeMetrics {
  const n = summary.node;
  const window = Math.max(0, ...n.systemContainers.map((c) => c.usageWindowSeconds), ...summary.pods.flatMap((p) => p.containers.map((c) => c.usageWindowSeconds)));
  return {
    kind: 'NodeMetrics', apiVersion: API_VERSION,
    metadata: identity(node, false, now),
    timestamp: n.cpu.time, window: windowOf(window),
    usage: usageOf(n.cpu.usageNanoCores, n.memory.workingSetBytes),
  };
}

/** The PodMetrics of `pod` from its node's summary, or undefined when the summary lacks it. */
export function podMetrics(pod: Pod, summary: StatsSummary, now: string): PodMetrics | undefined {
  const uid = pod.metadata?.uid;
  const stats = summary.pods.find((p) => p.podRef.uid === uid);
  if (!stats || !stats.containers.length) return undefined;
  const window = Math.max(...stats.containers.map((c: ContainerStatsSummary) => c.usageWindowSeconds));
  return {
    kind: 'PodMetrics', apiVersion: API_VERSION,
    metadata: identity(pod, true, now),
    timestamp: stats.cpu.time, window: windowOf(window),
    containers: stats.containers.map((c) => ({ name: c.name, usage: usageOf(c.cpu.usageNanoCores, c.memory.workingSetBytes) })),
  };
}

/** GETs `/stats/summary` from a kubelet; rejects with a 503 ApiError when it cannot answer. */
export function fetchSummary(target: { host: string; port: number }, token: string): Promise<StatsSummary> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new ApiError(503, 'ServiceUnavailable', `unable to fetch metrics from the kubelet at ${target.host}:${target.port}: ${why}`));
    const req = http.request({ host: target.host, port: target.port, method: 'GET', path: '/stats/summary', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, timeout: KUBELET_TIMEOUT_MS });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => fail(e.message));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => fail(e.message));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode ?? 0}: ${text.trim()}`);
        try {
          resolve(JSON.parse(text) as StatsSummary);
        } catch (e) {
          fail(`bad summary: ${(e as Error).message}`);
        }
      });
    });
    req.end();
  });
}

/** What the metrics handlers need from the API server. */
export interface MetricsSource {
  nodes(): Promise<Node[]>;
  node(name: string): Promise<Node>;
  pods(namespace: string): Promise<Pod[]>;
  pod(namespace: string, name: string): Promise<Pod>;
  summary(node: Node): Promise<StatsSummary>;
  now(): string;
  log(message: string, err: unknown): void;
}

/** metrics-server's 404: `podmetrics.metrics.k8s.io "default/web" not found`, `nodemetrics.metrics.k8s.io "node-1" not found`. */
const notFoundMetrics = (resource: 'nodes' | 'pods', name: string, namespace = ''): ApiError => {
  const kind = resource === 'nodes' ? 'nodemetrics' : 'podmetrics';
  const shown = namespace ? `${namespace}/${name}` : name;
  return new ApiError(404, 'NotFound', `${kind}.${METRICS_GROUP} "${shown}" not found`, [], { name: shown, group: METRICS_GROUP, kind });
};

/** Summaries of the given nodes, fetched in parallel; unreachable kubelets are logged and left out. */
async function summaries(src: MetricsSource, nodes: readonly Node[]): Promise<Map<string, StatsSummary>> {
  const out = new Map<string, StatsSummary>();
  await Promise.all(nodes.map(async (n) => {
    try {
      out.set(n.metadata?.name ?? '', await src.summary(n));
    } catch (e) {
      src.log(`metrics: node ${n.metadata?.name ?? ''}`, e);
    }
  }));
  return out;
}

/** `GET .../nodes[/{name}]` of metrics.k8s.io. */
export async function serveNodeMetrics(src: MetricsSource, name: string, filter: ObjectFilter): Promise<KubeObject> {
  const now = src.now();
  if (name) {
    const node = await src.node(name).catch((e: unknown) => {
      throw e instanceof ApiError && e.code === 404 ? notFoundMetrics('nodes', name) : e;
    });
    const s = (await summaries(src, [node])).get(name);
    if (!s) throw notFoundMetrics('nodes', name);
    return nodeMetrics(node, s, now);
  }
  const nodes = (await src.nodes()).filter((n) => filter.matches(n));
  const sums = await summaries(src, nodes);
  const items = nodes.flatMap((n) => {
    const s = sums.get(n.metadata?.name ?? '');
    return s ? [nodeMetrics(n, s, now)] : [];
  });
  return { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items } as KubeObject;
}

/** `GET [.../namespaces/{ns}]/pods[/{name}]` of metrics.k8s.io. */
export async function servePodMetrics(src: MetricsSource, namespace: string, name: string, filter: ObjectFilter): Promise<KubeObject> {
  const now = src.now();
  const nodesByName = new Map((await src.nodes()).map((n) => [n.metadata?.name ?? '', n]));
  if (name) {
    const pod = await src.pod(namespace, name).catch((e: unknown) => {
      throw e instanceof ApiError && e.code === 404 ? notFoundMetrics('pods', name, namespace) : e;
    });
    const node = nodesByName.get(pod.spec?.nodeName ?? '');
    const s = node ? (await summaries(src, [node])).get(node.metadata?.name ?? '') : undefined;
    const m = s ? podMetrics(pod, s, now) : undefined;
    if (!m) throw notFoundMetrics('pods', name, namespace);
    return m;
  }
  const pods = (await src.pods(namespace)).filter((p) => filter.matches(p) && p.spec?.nodeName && p.status?.phase === 'Running');
  const wanted = new Set(pods.map((p) => p.spec?.nodeName ?? ''));
  const sums = await summaries(src, [...nodesByName.values()].filter((n) => wanted.has(n.metadata?.name ?? '')));
  const items = pods.flatMap((p) => {
    const s = sums.get(p.spec?.nodeName ?? '');
    const m = s ? podMetrics(p, s, now) : undefined;
    return m ? [m] : [];
  });
  return { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items } as KubeObject;
}

/** Builds the {@link MetricsSource} over the API server's own reads. */
export function metricsSource(o: {
  get(def: ResourceDef, ns: string, name: string): Promise<KubeObject>;
  list(def: ResourceDef, ns: string): Promise<KubeObject[]>;
  nodesDef: ResourceDef; podsDef: ResourceDef; token: string; clock: () => Date; log(message: string, err: unknown): void;
}): MetricsSource {
  return {
    nodes: async () => (await o.list(o.nodesDef, '')) as Node[],
    node: async (name) => (await o.get(o.nodesDef, '', name)) as Node,
    pods: async (ns) => (await o.list(o.podsDef, ns)) as Pod[],
    pod: async (ns, name) => (await o.get(o.podsDef, ns, name)) as Pod,
    summary: (node) => fetchSummary(kubeletAddress(node), o.token),
    now: () => rfc3339(o.clock()),
    log: o.log,
  };
}
