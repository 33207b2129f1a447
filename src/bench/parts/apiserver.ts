/**
 * `apiserver` (simulated, no Docker): request latency with many pods stored. Requests are sent
 * one at a time (no load besides the one being measured) by a client in this process; the
 * server is the control-plane process itself (or, for the smoke test, an in-process server).
 * Pods carry a schedulerName nobody serves, so the scheduler leaves them alone.
 *
 * References: the Kubernetes API call latency SLOs (p99 over a day of a large cluster: 1 s for
 * a single-object call, 30 s for a cluster-scoped LIST), quoted, not run.
 */
import PQueue from 'p-queue';
import type { KubeObject, Pod } from '../../api/types.js';
import { PODS, type ApiClient, type WatchHandle } from '../../client/client.js';
import { nowMs } from '../clock.js';
import type { BenchContext } from '../context.js';
import { newPart, type PartResult, type Reference } from '../report.js';
import { summarize } from '../stats.js';
import { startInProcessServer, startServerProcess, type SimServer } from '../simulated.js';

export interface ApiServerBenchSize {
  /** Pods stored before measuring. */
  pods: number;
  gets: number;
  creates: number;
  updates: number;
  lists: number;
  selectorLists: number;
  watchers: number;
  /** Writes whose delivery to every watcher is timed. */
  watchWrites: number;
}

const SLO_SOURCE = 'kubernetes/community sig-scalability/slos/api_call_latency.md';
const SLO_SINGLE: Reference = { label: 'Kubernetes API SLO, single object', value: 1000, measured: false, source: SLO_SOURCE, compare: 'p99' };
const SLO_LIST: Reference = { label: 'Kubernetes API SLO, cluster LIST', value: 30_000, measured: false, source: SLO_SOURCE, compare: 'p99' };

const NS = 'default';
const GROUPS = 50;
const WATCH_MARK = 'bench.minikube-lite/watch';

/** A stored pod as the benchmark writes it: an nginx pod of one of 50 apps, never scheduled. */
export function storedPod(i: number, prefix = 'api-pod'): Pod & KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: `${prefix}-${i}`, namespace: NS,
      labels: { app: `app-${i % GROUPS}`, tier: i % 2 ? 'frontend' : 'backend', bench: 'apiserver' },
      annotations: { 'bench.minikube-lite/index': String(i) },
    },
    spec: {
      schedulerName: 'bench-unscheduled',
      containers: [{
        name: 'web', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, name: 'http' }],
        env: [{ name: 'INDEX', value: String(i) }], resources: { requests: { cpu: '100m', memory: '64Mi' } },
      }],
    },
  };
}

/** Times `fn` `count` times, one call at a time; ms per call. */
async function timeSequential(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = nowMs();
    await fn(i);
    out.push(nowMs() - t0);
  }
  return out;
}

/**
 * Opens `count` watches on the namespace's pods and times, for `writes` updates done one after
 * another, the delay from sending the write to each watcher receiving its event. One untimed
 * write first makes sure every watch is connected.
 */
async function watchDelays(client: ApiClient, count: number, writes: number, targets: (Pod & KubeObject)[]): Promise<{ each: number[]; all: number[] }> {
  const ref = { ...PODS, namespace: NS };
  const rv = (await client.list(ref, { labelSelector: 'bench=nothing' })).metadata.resourceVersion;
  /** The write in flight: its marker value, and when each watcher saw it. */
  let marker = '';
  let seen: number[] = [];
  let onSeen: (() => void) | undefined;
  const failures: Error[] = [];
  const handles: WatchHandle[] = [];
  for (let w = 0; w < count; w++) {
    const h = client.watch<Pod & KubeObject>(ref, { resourceVersion: rv }, (e) => {
      if (e.type === 'MODIFIED' && e.object.metadata?.annotations?.[WATCH_MARK] === marker) {
        seen.push(nowMs());
        onSeen?.();
      }
    });
    h.done.catch((err: unknown) => failures.push(err instanceof Error ? err : new Error(String(err))));
    handles.push(h);
  }
  const each: number[] = [];
  const all: number[] = [];
  try {
    for (let i = -1; i < writes; i++) {
      const target = targets[(i + targets.length) % targets.length].metadata?.name ?? '';
      marker = `write-${i}`;
      seen = [];
      const everyone = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`write ${i}: ${seen.length} of ${count} watchers saw it within 30 s${failures[0] ? ` (${failures[0].message})` : ''}`)), 30_000);
        onSeen = () => {
          if (seen.length === count) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      const t0 = nowMs();
      await client.patch(ref, target, { metadata: { annotations: { [WATCH_MARK]: marker } } });
      await everyone;
      if (i < 0) continue; // the untimed first write
      for (const t of seen) each.push(t - t0);
      all.push(Math.max(...seen) - t0);
    }
  } finally {
    onSeen = undefined;
    for (const h of handles) h.stop();
  }
  return { each, all };
}

export async function runApiServer(ctx: BenchContext, opts: { size?: ApiServerBenchSize; inProcess?: boolean } = {}): Promise<PartResult> {
  const size = opts.size ?? (ctx.quick
    ? { pods: 500, gets: 200, creates: 50, updates: 50, lists: 5, selectorLists: 20, watchers: 50, watchWrites: 20 }
    : { pods: 5000, gets: 1000, creates: 300, updates: 300, lists: 20, selectorLists: 100, watchers: 50, watchWrites: 100 });
  const where = opts.inProcess ? 'an in-process API server' : 'the control-plane process (API server + scheduler, SQLite store in a temp dir)';
  const part = newPart('apiserver', `simulated: ${size.pods} pods stored (an nginx pod spec, 50 apps × 2 tiers, never scheduled), on ${where}; requests one at a time from this process over loopback HTTP`);
  const server: SimServer = opts.inProcess ? await startInProcessServer(ctx.log) : await startServerProcess(ctx.log);
  const task = ctx.cleanup.add('API server (apiserver part)', () => server.close());
  try {
    const client = server.client();
    const ref = { ...PODS, namespace: NS };
    const stored: (Pod & KubeObject)[] = new Array<Pod & KubeObject>(size.pods);
    const queue = new PQueue({ concurrency: 16 });
    const t0 = nowMs();
    await Promise.all(Array.from({ length: size.pods }, (_, i) => queue.add(async () => {
      stored[i] = await client.create(ref, storedPod(i));
    })));
    const fillMs = nowMs() - t0;
    part.setup += `; a stored pod is ${JSON.stringify(stored[0]).length} bytes of JSON`;
    ctx.log(`apiserver: ${size.pods} pods stored in ${(fillMs / 1000).toFixed(1)} s`);

    const pick = (i: number) => stored[(i * 7919) % stored.length];
    const gets = await timeSequential(size.gets, (i) => client.get(ref, pick(i).metadata?.name ?? ''));
    const creates = await timeSequential(size.creates, (i) => client.create(ref, storedPod(i, 'api-new')));
    const updates = await timeSequential(size.updates, async (i) => {
      const j = (i * 7919) % stored.length;
      const cur = stored[j];
      stored[j] = await client.update(ref, { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, rev: String(i) } } });
    });
    const lists = await timeSequential(size.lists, () => client.list(PODS));
    let matched = 0;
    const selectorLists = await timeSequential(size.selectorLists, async (i) => {
      matched = (await client.list(PODS, { labelSelector: `app=app-${i % GROUPS},tier=${i % 2 ? 'frontend' : 'backend'}` })).items.length;
    });
    const watch = await watchDelays(client, size.watchers, size.watchWrites, stored.slice(0, 100));

    const total = size.pods + size.creates;
    part.figures.push(
      { name: 'GET one pod', unit: 'ms', summary: summarize(gets), spread: 'p99', references: [SLO_SINGLE], samples: gets },
      { name: 'create a pod', unit: 'ms', summary: summarize(creates), spread: 'p99', references: [SLO_SINGLE], samples: creates },
      { name: 'update a pod (PUT)', unit: 'ms', summary: summarize(updates), spread: 'p99', references: [SLO_SINGLE], samples: updates },
      { name: `LIST all pods (${total}, cluster-wide)`, unit: 'ms', summary: summarize(lists), spread: 'p99', references: [SLO_LIST], samples: lists },
      { name: `LIST with labelSelector (${matched} of ${total} match)`, unit: 'ms', summary: summarize(selectorLists), spread: 'p99', references: [SLO_LIST], samples: selectorLists },
      { name: `write → watch event, each of ${size.watchers} watchers`, unit: 'ms', summary: summarize(watch.each), spread: 'p99', references: [], samples: watch.each },
      { name: `write → watch event, last of ${size.watchers} watchers`, unit: 'ms', summary: summarize(watch.all), spread: 'p99', references: [], samples: watch.all },
    );
    part.details = { size, fillMs, fillPodsPerSecond: size.pods / (fillMs / 1000), serverPid: server.pid };
    part.notes.push(`Filling the store: ${size.pods} creates with 16 in flight took ${(fillMs / 1000).toFixed(1)} s (${(size.pods / (fillMs / 1000)).toFixed(0)} pods/s).`);
    part.notes.push('The SLOs are p99 targets for a large production cluster over a day; here p99 of an idle server is compared with them. Watch delays are timed from sending the write (a merge PATCH) until the event arrives; Kubernetes has no watch-latency SLO yet.');
  } finally {
    await task.run();
  }
  return part;
}
