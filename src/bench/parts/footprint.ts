/**
 * `footprint`: what a running 2-node cluster costs the host — resident memory (VmRSS from
 * /proc/<pid>/status) of the control-plane and kubelet processes, sampled through an idle
 * window, and the CPU seconds they use in it (utime+stime from /proc/<pid>/stat) — first idle
 * with no pods, then with pause-only pods running (light on purpose: the figure is the
 * cluster's own cost, not the workload's). The engine (dockerd, containerd, shims) is not
 * counted: it is the node's container runtime, not minikube-lite.
 */
import { readFileSync } from 'node:fs';
import PQueue from 'p-queue';
import type { Pod } from '../../api/types.js';
import { PODS } from '../../client/client.js';
import { sleep } from '../clock.js';
import { newCluster } from '../cluster.js';
import type { BenchContext } from '../context.js';
import { exec } from '../exec.js';
import { PAUSE_IMAGE } from '../floor.js';
import { PodWatch } from '../podwatch.js';
import { formatValue, newPart, type Figure, type PartResult, type Reference } from '../report.js';
import { single, summarize } from '../stats.js';
import { requireImages } from './pods.js';

const K3S_WORKLOAD: Reference = {
  label: 'k3s server with a workload', value: 1596, measured: false,
  source: 'docs.k3s.io/reference/resource-profiling (K3s v1.26.5, Kine/SQLite: 1596 M)',
};
const K3S_MINIMUM: Reference = { label: 'k3s minimum RAM', value: 512, measured: false, source: 'docs.k3s.io/installation/requirements (512 MB)' };

/** VmRSS of a process in MiB, or NaN when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Number.NaN;
    throw e;
  }
}

/** utime+stime of a process in clock ticks, or NaN when it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at field 3 (state); 14 and 15 are utime, stime.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Number.NaN;
    throw e;
  }
}

interface WindowResult {
  /** RSS samples per component, MiB. */
  rss: Map<string, number[]>;
  /** CPU seconds per component over the window. */
  cpu: Map<string, number>;
}

/** Samples RSS every `everyMs` for `seconds`, and the CPU used in between. */
async function idleWindow(pids: { component: string; pid: number }[], seconds: number, ticksPerSecond: number, everyMs = 2000): Promise<WindowResult> {
  const rss = new Map(pids.map((p) => [p.component, [] as number[]]));
  const before = new Map(pids.map((p) => [p.component, cpuTicks(p.pid)]));
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const p of pids) rss.get(p.component)?.push(rssMiB(p.pid));
    await sleep(Math.min(everyMs, Math.max(0, end - Date.now())));
  }
  for (const p of pids) rss.get(p.component)?.push(rssMiB(p.pid));
  const cpu = new Map(pids.map((p) => [p.component, (cpuTicks(p.pid) - (before.get(p.component) ?? Number.NaN)) / ticksPerSecond]));
  return { rss, cpu };
}

/** Sum over components of each sample index (all components are sampled together). */
function sumSeries(series: number[][]): number[] {
  const len = Math.min(...series.map((s) => s.length));
  return Array.from({ length: len }, (_, i) => series.reduce((a, s) => a + s[i], 0));
}

function pausePod(i: number): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `footprint-${i}`, namespace: 'default', labels: { bench: 'footprint' } },
    spec: { containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'IfNotPresent' }], terminationGracePeriodSeconds: 1 },
  };
}

export async function runFootprint(ctx: BenchContext): Promise<PartResult> {
  const seconds = ctx.quick ? 15 : 60;
  const podCount = ctx.quick ? 20 : 100;
  const settleMs = ctx.quick ? 3000 : 10_000;
  const part = newPart('footprint', `a 2-node cluster: RSS (VmRSS, sampled every 2 s) and CPU (utime+stime) of the control-plane and kubelet processes over ${seconds} s idle, first with no pods, then with ${podCount} pause-only pods (image ${PAUSE_IMAGE}: a pause sandbox + a pause container each) Running; ${settleMs / 1000} s settling before each window`);
  await requireImages([PAUSE_IMAGE]);
  const tck = await exec('getconf', ['CLK_TCK']);
  const ticksPerSecond = tck.code === 0 ? Number(tck.stdout.trim()) || 100 : 100;

  const { cluster, release } = await newCluster(ctx, 'footprint', 2);
  await cluster.up();
  const pids = cluster.componentPids();
  if (pids.length !== 3) throw new Error(`expected 3 component processes, found ${pids.map((p) => p.component).join(', ')}`);
  await sleep(settleMs);
  ctx.log(`footprint: idle window (${seconds} s), no pods`);
  await cluster.profileSegment('startup');
  const idle = await idleWindow(pids, seconds, ticksPerSecond);
  await cluster.profileSegment('idle-no-pods');

  const client = cluster.client();
  const watch = new PodWatch(client, 'default', 'bench=footprint');
  await watch.start();
  const queue = new PQueue({ concurrency: 8 });
  await Promise.all(Array.from({ length: podCount }, (_, i) => queue.add(() => client.create({ ...PODS, namespace: 'default' }, pausePod(i)))));
  await watch.until(() => (watch.live().filter((m) => m.running !== undefined).length >= podCount ? true : undefined), 600_000, `${podCount} pause pods running`);
  watch.stop();
  await sleep(settleMs);
  ctx.log(`footprint: idle window (${seconds} s), ${podCount} pods running`);
  await cluster.profileSegment('creating-pods');
  const loaded = await idleWindow(pids, seconds, ticksPerSecond);
  await cluster.profileSegment('idle-with-pods');
  part.profileSegments = ['idle-no-pods', 'idle-with-pods'];
  if (ctx.cpuProfDir) part.notes.push('Profiled run (--cpu-prof): the CPU figures include the V8 profiler\'s own sampling (about 3% of a core per process); measure CPU without --cpu-prof.');

  const kubelets = pids.filter((p) => p.component.startsWith('kubelet')).map((p) => p.component);
  const series = (w: WindowResult, names: string[]) => sumSeries(names.map((n) => w.rss.get(n) ?? []));
  const cpuOf = (w: WindowResult, names: string[]) => names.reduce((a, n) => a + (w.cpu.get(n) ?? Number.NaN), 0);
  const all = pids.map((p) => p.component);
  const rssFigure = (name: string, samples: number[], references: Reference[]): Figure =>
    ({ name, unit: 'MiB', summary: summarize(samples), spread: 'minmax', references, samples });
  const cpuFigure = (name: string, v: number): Figure => ({ name, unit: 'cpu-s', summary: single(v), spread: 'minmax', references: [] });
  part.figures.push(
    rssFigure('RSS control plane, idle, no pods', series(idle, ['controlplane']), []),
    rssFigure('RSS 2 kubelets, idle, no pods', series(idle, kubelets), []),
    rssFigure('RSS total, idle, no pods', series(idle, all), [K3S_MINIMUM]),
    cpuFigure(`CPU total in ${seconds} s idle, no pods`, cpuOf(idle, all)),
    rssFigure(`RSS control plane, ${podCount} pods`, series(loaded, ['controlplane']), []),
    rssFigure(`RSS 2 kubelets, ${podCount} pods`, series(loaded, kubelets), []),
    rssFigure(`RSS total, ${podCount} pods`, series(loaded, all), [K3S_WORKLOAD]),
    cpuFigure(`CPU total in ${seconds} s idle, ${podCount} pods`, cpuOf(loaded, all)),
  );
  part.tables.push({
    title: 'per process (RSS median; CPU seconds over the window)',
    header: ['PROCESS', 'RSS NO PODS', `CPU NO PODS`, `RSS ${podCount} PODS`, `CPU ${podCount} PODS`],
    rows: all.map((n) => [
      n,
      formatValue(summarize(idle.rss.get(n) ?? []).p50, 'MiB'), formatValue(idle.cpu.get(n) ?? Number.NaN, 'cpu-s'),
      formatValue(summarize(loaded.rss.get(n) ?? []).p50, 'MiB'), formatValue(loaded.cpu.get(n) ?? Number.NaN, 'cpu-s'),
    ]),
  });
  const pct = (cpuSeconds: number) => `${((cpuSeconds / seconds) * 100).toFixed(1)}% of a core`;
  part.notes.push(`CPU while idle: ${pct(cpuOf(idle, all))} with no pods, ${pct(cpuOf(loaded, all))} with ${podCount} pods (k3s's profile quotes 6% of a core for a server with a workload).`);
  part.notes.push('k3s figures include its embedded containerd and everything a k3s server bundles; ours exclude the Docker engine. 1596 M and 512 MB are taken as MiB.');
  part.details = { seconds, podCount, ticksPerSecond, idle: { rss: Object.fromEntries(idle.rss), cpu: Object.fromEntries(idle.cpu) }, loaded: { rss: Object.fromEntries(loaded.rss), cpu: Object.fromEntries(loaded.cpu) } };
  await release();
  return part;
}
