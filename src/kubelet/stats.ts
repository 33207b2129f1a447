/**
 * The kubelet's resource statistics (Kubernetes' `pkg/kubelet/server/stats` with cAdvisor's
 * sampling in miniature): the `/stats/summary` document — node, per-pod and per-container CPU
 * (`usageNanoCores`, `usageCoreNanoSeconds`) and memory (`workingSetBytes`) — built from the
 * runtime's `containerStats`.
 *
 * A CPU rate needs two samples. Like cAdvisor, the provider keeps the last sample of every
 * container it has seen and computes the rate over the time since then; only a container seen
 * for the first time is sampled a second time, about `minWindowMs` later (the rate is then over
 * whatever time passed between the two). Later requests cost one sample per container and no
 * wait; a request sooner than `minWindowMs` after the last sample reports the last rate.
 */
import { LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_UID, type Pod } from '../api/types.js';
import type { ContainerStats, Runtime } from '../runtime/types.js';
import type { Clock } from './clock.js';
import { rfc3339 as kubeTime } from './status.js';

/** `CPUStats` of the summary API (stats/v1alpha1). */
export interface CpuStats {
  time: string;
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
}

/** `MemoryStats` of the summary API: the working set (what eviction and metrics use). */
export interface MemoryStats {
  time: string;
  workingSetBytes: number;
}

/**
 * One container's (or system container's) statistics. `usageWindowSeconds` is minikube-lite's
 * addition (Kubernetes' summary has no such field): the span of the two samples the CPU rate
 * comes from, reported by the metrics API as the `window`.
 */
export interface ContainerStatsSummary {
  name: string;
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
  usageWindowSeconds: number;
}

export interface PodStatsSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsSummary[];
  cpu: CpuStats;
  memory: MemoryStats;
}

export interface NodeStatsSummary {
  nodeName: string;
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
  systemContainers: ContainerStatsSummary[];
}

/** The `/stats/summary` document. */
export interface StatsSummary {
  node: NodeStatsSummary;
  pods: PodStatsSummary[];
}

/** One sample and the rate computed when it was taken. */
interface CachedSample {
  sample: ContainerStats;
  /** Nano-cores over [previous sample, this sample]; undefined for a first sample. */
  nanoCores?: number;
  windowMs?: number;
}

/** A rate from two cumulative CPU samples: nano-cores (core-nanoseconds per second). */
export function cpuRate(prev: ContainerStats, cur: ContainerStats): { nanoCores: number; windowMs: number } | undefined {
  const windowMs = cur.timestamp - prev.timestamp;
  if (windowMs <= 0) return undefined;
  const used = cur.cpuUsageCoreNanoSeconds - prev.cpuUsageCoreNanoSeconds;
  // A counter that went back (container replaced under the same id) has no rate yet.
  if (used < 0) return undefined;
  return { nanoCores: Math.round((used * 1000) / windowMs), windowMs };
}

/**
 * Per-container sample cache and rate computation. `sample(id)` returns the CPU rate of a
 * container over its last window, or undefined when it has only one sample so far.
 * Not reentrant per id in a meaningful way, but safe: concurrent calls only replace samples.
 */
export class SampleCache {
  private readonly samples = new Map<string, CachedSample>();

  constructor(private readonly minWindowMs: number) {}

  /**
   * Records `cur` for `id` and returns the rate to report: a fresh one when the previous
   * sample is at least `minWindowMs` old, or when there is no rate yet (any window); the last
   * computed one when the previous sample is younger (the new sample is then not kept, so the
   * next window stays long enough); undefined for a first sample.
   */
  record(id: string, cur: ContainerStats): CachedSample {
    const prev = this.samples.get(id);
    if (prev && prev.nanoCores !== undefined && cur.timestamp - prev.sample.timestamp < this.minWindowMs) {
      return { ...prev, sample: { ...cur } };
    }
    const rate = prev ? cpuRate(prev.sample, cur) : undefined;
    // Same instant as the first sample: keep the first, so the next one has a window.
    if (prev && !rate && prev.nanoCores === undefined && cur.timestamp <= prev.sample.timestamp) return { sample: cur };
    const next: CachedSample = rate ? { sample: cur, ...rate } : { sample: cur };
    this.samples.set(id, next);
    return next;
  }

  /** Whether `id` has never been sampled. */
  has(id: string): boolean {
    return this.samples.has(id);
  }

  /** Forgets every id not in `live` (containers that are gone). */
  retain(live: ReadonlySet<string>): void {
    for (const id of this.samples.keys()) if (!live.has(id)) this.samples.delete(id);
  }
}

export interface StatsProviderOptions {
  runtime: Runtime;
  cluster: string;
  nodeName: string;
  clock: Clock;
  /** The pods bound to this node (the kubelet's pod informer). */
  pods(): readonly Pod[];
  /** When the kubelet started (the node's `startTime`). */
  startTime: Date;
  /** The kubelet process's own usage (a system container named `kubelet`); default: this process. */
  self?: () => ContainerStats;
  /** Shortest window a CPU rate is computed over (default 1000 ms). */
  minWindowMs?: number;
}

/** RFC 3339 at whole seconds, from milliseconds since the epoch. */
const rfc3339 = (ms: number): string => kubeTime(new Date(ms));

/** This process's CPU time and resident memory, as a container sample. */
export function processSample(now: () => number): ContainerStats {
  const u = process.cpuUsage();
  return { timestamp: now(), cpuUsageCoreNanoSeconds: (u.user + u.system) * 1000, memoryWorkingSetBytes: process.memoryUsage().rss };
}

/** Builds `/stats/summary` for one node; see the module comment for the sampling. */
export class StatsProvider {
  private readonly cache: SampleCache;
  private readonly minWindowMs: number;

  constructor(private readonly opts: StatsProviderOptions) {
    this.minWindowMs = opts.minWindowMs ?? 1000;
    this.cache = new SampleCache(this.minWindowMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.opts.clock.after(ms, resolve));
  }

  /**
   * The summary now. Containers without a rate yet are sampled again after the minimum
   * window (the only wait); pods with no running container are left out, as the kubelet's.
   */
  async summary(): Promise<StatsSummary> {
    const { runtime, cluster, nodeName } = this.opts;
    const now = () => this.opts.clock.now().getTime();
    const self = this.opts.self ?? (() => processSample(now));
    const containers = (await runtime.listContainers({ [LABEL_CLUSTER]: cluster, [LABEL_NODE]: nodeName }))
      .filter((c) => c.state === 'running' && c.labels[LABEL_POD_UID] && c.labels[LABEL_CONTAINER_NAME]);
    this.cache.retain(new Set([...containers.map((c) => c.id), '/kubelet']));
    const started = now();
    const results = new Map<string, CachedSample>();
    const again: string[] = [];
    const take = async (id: string): Promise<void> => {
      const s = await runtime.containerStats(id);
      if (!s) return;
      const r = this.cache.record(id, s);
      if (r.nanoCores === undefined) again.push(id);
      else results.set(id, r);
    };
    const takeSelf = (): void => {
      const r = this.cache.record('/kubelet', self());
      if (r.nanoCores === undefined) again.push('/kubelet');
      else results.set('/kubelet', r);
    };
    takeSelf();
    await Promise.all(containers.map((c) => take(c.id)));
    if (again.length) {
      await this.sleep(Math.max(0, this.minWindowMs - (now() - started)));
      const retry = again.splice(0);
      await Promise.all(retry.map((id) => (id === '/kubelet' ? Promise.resolve(takeSelf()) : take(id))));
    }

    const podsByUid = new Map(this.opts.pods().map((p) => [p.metadata?.uid ?? '', p]));
    const byPod = new Map<string, ContainerStatsSummary[]>();
    for (const c of containers) {
      const r = results.get(c.id);
      const uid = c.labels[LABEL_POD_UID];
      if (!r || !podsByUid.has(uid)) continue;
      const list = byPod.get(uid) ?? [];
      list.push(containerSummary(c.labels[LABEL_CONTAINER_NAME], (c.startedAt ?? c.createdAt).getTime(), r));
      byPod.set(uid, list);
    }
    const pods: PodStatsSummary[] = [];
    for (const [uid, list] of byPod) {
      const pod = podsByUid.get(uid);
      const m = pod?.metadata ?? {};
      list.sort((a, b) => a.name.localeCompare(b.name));
      const total = sum(list, started);
      pods.push({
        podRef: { name: m.name ?? '', namespace: m.namespace ?? '', uid },
        startTime: pod?.status?.startTime ?? m.creationTimestamp ?? rfc3339(started),
        containers: list, cpu: total.cpu, memory: total.memory,
      });
    }
    pods.sort((a, b) => `${a.podRef.namespace}/${a.podRef.name}`.localeCompare(`${b.podRef.namespace}/${b.podRef.name}`));
    const kubelet = results.get('/kubelet');
    const system = kubelet ? [containerSummary('kubelet', this.opts.startTime.getTime(), kubelet)] : [];
    // The node's usage: its pods plus the kubelet itself (nodes share one machine here, so the
    // machine-wide counters would count every node's pods on each).
    const node = sum([...pods.map((p) => ({ cpu: p.cpu, memory: p.memory })), ...system], started);
    return {
      node: { nodeName, startTime: rfc3339(this.opts.startTime.getTime()), cpu: node.cpu, memory: node.memory, systemContainers: system },
      pods,
    };
  }
}

function containerSummary(name: string, startMs: number, r: CachedSample): ContainerStatsSummary {
  const time = rfc3339(r.sample.timestamp);
  return {
    name,
    startTime: rfc3339(startMs),
    cpu: { time, usageNanoCores: r.nanoCores ?? 0, usageCoreNanoSeconds: r.sample.cpuUsageCoreNanoSeconds },
    memory: { time, workingSetBytes: r.sample.memoryWorkingSetBytes },
    usageWindowSeconds: (r.windowMs ?? 0) / 1000,
  };
}

function sum(parts: readonly { cpu: CpuStats; memory: MemoryStats }[], fallbackMs: number): { cpu: CpuStats; memory: MemoryStats } {
  const time = parts.map((p) => p.cpu.time).sort().at(-1) ?? rfc3339(fallbackMs);
  return {
    cpu: {
      time,
      usageNanoCores: parts.reduce((n, p) => n + p.cpu.usageNanoCores, 0),
      usageCoreNanoSeconds: parts.reduce((n, p) => n + p.cpu.usageCoreNanoSeconds, 0),
    },
    memory: { time, workingSetBytes: parts.reduce((n, p) => n + p.memory.workingSetBytes, 0) },
  };
}
