/**
 * `scheduler` (simulated, no Docker): scheduling throughput end to end through the API server
 * and its SQLite store. Fake nodes are Node objects created through the API (allocatable
 * cpu/memory/pods, Ready) with no kubelet behind them; pending pods with mixed requests and
 * nodeSelectors are created first; then the real `Scheduler` starts (in this process, beside
 * the in-process API server) and a watch counts the bindings.
 *
 * Reference: kube-scheduler's scheduler_perf CI floor for SchedulingBasic with 5,000 nodes
 * (270 pods/s), a threshold their CI enforces on its own, larger machines.
 */
import PQueue from 'p-queue';
import type { KubeObject, Node, Pod } from '../../api/types.js';
import { NODES, PODS, type ApiClient, type WatchHandle } from '../../client/client.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { nowMs, sleep } from '../clock.js';
import type { BenchContext } from '../context.js';
import { newPart, type PartResult } from '../report.js';
import { perWindowCounts, single, summarize } from '../stats.js';
import { startInProcessServer } from '../simulated.js';

export interface SchedulerBenchSize {
  nodes: number;
  pods: number;
  /** Stop waiting for bindings after this long and report the rate so far (default 300 s quick, 900 s full). */
  timeoutMs?: number;
}

export const SCHEDULER_PERF_REFERENCE = {
  label: 'kube-scheduler CI floor (SchedulingBasic, 5k nodes)',
  value: 270,
  measured: false,
  source: 'kubernetes/test/integration/scheduler_perf config/performance-config.yaml, SchedulingBasic 5000Nodes threshold',
} as const;

const ZONES = ['zone-a', 'zone-b', 'zone-c', 'zone-d'];
const CPU = ['100m', '250m', '500m', '1'];
const MEMORY = ['64Mi', '128Mi', '256Mi', '512Mi'];

/** Fake node `i`: one of two sizes, a zone, every third one with an SSD. */
export function fakeNode(i: number): { node: Node & KubeObject; status: Node['status'] } {
  const name = `fake-node-${i}`;
  const big = i % 2 === 0;
  const alloc = { cpu: big ? '32' : '16', memory: big ? '128Gi' : '64Gi', pods: '110' };
  return {
    node: {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': ZONES[i % ZONES.length], disktype: i % 3 === 0 ? 'ssd' : 'hdd' } },
    },
    status: {
      capacity: alloc, allocatable: alloc,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated node' }],
    },
  };
}

/** Pending pod `i`: mixed cpu/memory requests; a third with no selector, a third a zone, a third `disktype=ssd`. */
export function pendingPod(i: number, namespace: string): Pod & KubeObject {
  const selector: Record<string, string> | undefined = i % 3 === 0 ? undefined : i % 3 === 1 ? { 'topology.kubernetes.io/zone': ZONES[i % ZONES.length] } : { disktype: 'ssd' };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `sched-pod-${i}`, namespace, labels: { app: `app-${i % 20}` } },
    spec: {
      containers: [{ name: 'app', image: 'nginx:latest', resources: { requests: { cpu: CPU[i % CPU.length], memory: MEMORY[Math.floor(i / 4) % MEMORY.length] } } }],
      ...(selector ? { nodeSelector: selector } : {}),
    },
  };
}

/** Runs `fn(i)` for i in [0, count) with `concurrency` in flight; resolves with the elapsed ms. */
async function forEachConcurrent(count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = nowMs();
  const queue = new PQueue({ concurrency });
  await Promise.all(Array.from({ length: count }, (_, i) => queue.add(() => fn(i))));
  return nowMs() - t0;
}

/** Creates the fake nodes (object, then status) through the API. */
export async function createFakeNodes(client: ApiClient, count: number): Promise<void> {
  await forEachConcurrent(count, 16, async (i) => {
    const { node, status } = fakeNode(i);
    await client.create(NODES, node);
    await client.patch(NODES, node.metadata?.name ?? '', { status }, 'status');
  });
}

/**
 * Watches from `resourceVersion` and notes when (epoch ms) each pod is first seen bound.
 * `done` resolves once `expected` pods are bound, or at `timeoutMs` with the bindings so far
 * (`complete` false); it rejects only when the watch fails.
 */
function watchBindings(client: ApiClient, namespace: string, resourceVersion: string, expected: number, timeoutMs: number): { done: Promise<{ times: number[]; complete: boolean }>; stop: () => void } {
  const bound = new Map<string, number>();
  // The executor runs synchronously: both are set before this function returns.
  let handle!: WatchHandle;
  let timer!: NodeJS.Timeout;
  const done = new Promise<{ times: number[]; complete: boolean }>((resolve, reject) => {
    timer = setTimeout(() => {
      handle.stop();
      resolve({ times: [...bound.values()], complete: false });
    }, timeoutMs);
    handle = client.watch<Pod & KubeObject>({ ...PODS, namespace }, { resourceVersion }, (e) => {
      if (e.type !== 'MODIFIED' && e.type !== 'ADDED') return;
      const name = e.object.metadata?.name ?? '';
      if (e.object.spec?.nodeName && !bound.has(name)) {
        bound.set(name, nowMs());
        if (bound.size === expected) {
          clearTimeout(timer);
          handle.stop();
          resolve({ times: [...bound.values()], complete: true });
        }
      }
    });
    handle.done.catch((err: unknown) => {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
  return {
    done,
    stop: () => {
      clearTimeout(timer);
      handle.stop();
    },
  };
}

export async function runScheduler(ctx: BenchContext, size?: SchedulerBenchSize): Promise<PartResult> {
  const { nodes, pods } = size ?? (ctx.quick ? { nodes: 100, pods: 1000 } : { nodes: 1000, pods: 10_000 });
  const ns = 'default';
  const part = newPart('scheduler', `simulated: ${nodes} fake nodes (API objects: 16 or 32 cpu, 64/128Gi, 110 pods, 4 zones, 1/3 ssd) and ${pods} pending pods (requests 100m–1 cpu, 64–512Mi; 1/3 no selector, 1/3 zone, 1/3 disktype=ssd), created first; then the Scheduler starts; in-process API server + SQLite store (file) + Scheduler, one Node.js thread`);
  const server = await startInProcessServer(ctx.log);
  const task = ctx.cleanup.add('in-process API server (scheduler)', () => server.close());
  let scheduler: Scheduler | undefined;
  let finished = false;
  try {
    const client = server.client();
    await createFakeNodes(client, nodes);
    const createMs = await forEachConcurrent(pods, 16, (i) => client.create({ ...PODS, namespace: ns }, pendingPod(i, ns)));
    ctx.log(`scheduler: ${nodes} nodes, ${pods} pods created (${(pods / (createMs / 1000)).toFixed(0)} pods/s)`);
    const rv = (await client.list(NODES)).metadata.resourceVersion;

    const failures: string[] = [];
    // A slow scheduler is reported, not waited for forever: the rate over what got bound.
    const timeoutMs = size?.timeoutMs ?? (ctx.quick ? 300_000 : 900_000);
    const bindings = watchBindings(client, ns, rv, pods, timeoutMs);
    const t0 = nowMs();
    scheduler = new Scheduler({
      client: server.client(),
      log: (m) => {
        if (!m.startsWith('scheduler: bound ')) failures.push(m);
      },
    });
    await scheduler.start();
    const synced = nowMs();
    let result: { times: number[]; complete: boolean };
    try {
      result = await bindings.done;
    } finally {
      bindings.stop();
    }
    const { times, complete } = result;
    finished = complete;
    if (times.length === 0) throw new Error(`no pod was bound within ${timeoutMs / 1000} s`);
    const last = Math.max(...times);
    const first = Math.min(...times);
    const elapsed = last - t0;
    const perSecond = perWindowCounts(times, t0, 1000);
    part.figures.push(
      { name: `pods bound/s, average (${complete ? pods : `only ${times.length} of ${pods} bound in ${timeoutMs / 1000} s`})`, unit: 'pods/s', summary: single(times.length / (elapsed / 1000)), spread: 'minmax', references: [{ ...SCHEDULER_PERF_REFERENCE }] },
      { name: 'pods bound per 1-s window', unit: 'pods/s', summary: summarize(perSecond), spread: 'minmax', references: [], samples: perSecond },
      { name: 'pods created/s (16 in flight, before scheduling)', unit: 'pods/s', summary: single(pods / (createMs / 1000)), spread: 'minmax', references: [] },
    );
    if (!complete) part.notes.push(`Stopped waiting after ${timeoutMs / 1000} s with ${times.length} of ${pods} pods bound; the rates are over those.`);
    part.details = { nodes, pods, bound: times.length, complete, elapsedMs: elapsed, schedulerStartMs: synced - t0, firstBindMs: first - t0, createMs, failures: failures.slice(0, 20), failureCount: failures.length };
    part.notes.push(`Timed from Scheduler.start() (its initial LIST of ${pods} pods took ${((synced - t0) / 1000).toFixed(2)} s) to the last binding seen by a watch: ${(elapsed / 1000).toFixed(1)} s; first binding after ${((first - t0) / 1000).toFixed(2)} s.`);
    part.notes.push('Each binding is a POST pods/binding plus a Scheduled event (another POST), as in a real cluster; scheduler_perf runs on larger CI machines, with 5,000 nodes and pods created while the scheduler runs.');
    if (failures.length) part.notes.push(`${failures.length} scheduler messages other than "bound", first: ${failures[0]}`);
  } finally {
    // Scheduler.stop() lets its queue drain, which with pods still pending means scheduling them
    // all (each cycle costing what it did at the end): delete the unbound pods first and give its
    // informer a moment to see that, so what is left in its queue is skipped.
    if (scheduler && !finished) {
      await server.client().request('DELETE', `/api/v1/namespaces/${ns}/pods?fieldSelector=${encodeURIComponent('spec.nodeName=')}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 })
        .catch((e: unknown) => ctx.log(`scheduler: deleting the pods left pending failed: ${(e as Error).message}`));
      await sleep(3000);
    }
    await scheduler?.stop();
    await task.run();
  }
  return part;
}
