/**
 * `pods`: pod startup latency, one pod after another, on a real 2-node cluster, with the
 * raw-Docker floor measured in the same run, interleaved pod by pod (ours, floor, floor, ours,
 * …) so that a busy machine weighs on both alike.
 *
 * Ours: POST an nginx pod (nginx:latest, IfNotPresent, image present) and watch it: create →
 * all containers running, create → Ready, create → nginx answers HTTP from the host.
 * Floor: the same pause + nginx with plain engine calls (`RawDockerFloor`) until nginx answers.
 * Docker's own created/started times of both give a phase breakdown: where our extra time goes.
 */
import type { Pod } from '../../api/types.js';
import { LABEL_POD_UID } from '../../api/types.js';
import { PODS, type ApiClient } from '../../client/client.js';
import { DockerRuntime } from '../../runtime/docker.js';
import { nowMs } from '../clock.js';
import { newCluster } from '../cluster.js';
import type { BenchContext } from '../context.js';
import { NGINX_IMAGE, PAUSE_IMAGE, RawDockerFloor, type EngineTimes, type PairTiming } from '../floor.js';
import { waitForHttp } from '../http.js';
import { PodWatch, type PodMarks } from '../podwatch.js';
import { formatValue, newPart, type PartResult } from '../report.js';
import { summarize } from '../stats.js';

const NS = 'default';
const LABEL = 'bench=pods';

/** An nginx pod as the benchmark creates it. */
export function nginxPod(name: string, labels: Record<string, string>): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      containers: [{ name: 'nginx', image: NGINX_IMAGE, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80 }] }],
      terminationGracePeriodSeconds: 5,
    },
  };
}

/** Fails with a clear sentence when an image the benchmark uses is missing (nothing is pulled). */
export async function requireImages(images: readonly string[]): Promise<void> {
  const rt = new DockerRuntime();
  for (const image of images) {
    if (!(await rt.imageStatus(image))) throw new Error(`image ${image} is not present: run bash scripts/setup.sh (it builds the images offline)`);
  }
}

/** One of our pods: the watch's marks plus the request time and the HTTP answer. */
interface OurPod {
  t0: number;
  marks: PodMarks;
  http: number;
  engine?: EngineTimes;
}

async function startOurPod(client: ApiClient, watch: PodWatch, name: string): Promise<OurPod> {
  const t0 = nowMs();
  await client.create({ ...PODS, namespace: NS }, nginxPod(name, { bench: 'pods' }));
  const marks = await watch.waitPod(name, (m) => m.running !== undefined && m.ready !== undefined && m.ip !== undefined, 120_000, 'running and Ready');
  const http = await waitForHttp(marks.ip ?? '', 80, t0 + 120_000);
  return { t0, marks, http };
}

/** Docker's created/started times of a pod's sandbox and its (only) app container. */
export async function ourEngineTimes(runtime: DockerRuntime, uid: string): Promise<EngineTimes | undefined> {
  const filter = { [LABEL_POD_UID]: uid };
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes(filter), runtime.listContainers(filter)]);
  const sb = sandboxes[0] ? await runtime.containerStatus(sandboxes[0].id) : undefined;
  const app = containers[0];
  if (!sb || !app) return undefined;
  return {
    sandboxCreated: sb.createdAt.getTime(),
    sandboxStarted: sb.startedAt?.getTime() ?? Number.NaN,
    appCreated: app.createdAt.getTime(),
    appStarted: app.startedAt?.getTime() ?? Number.NaN,
  };
}

const med = (xs: number[]): string => formatValue(summarize(xs.filter(Number.isFinite)).p50, 'ms');

export async function runPods(ctx: BenchContext): Promise<PartResult> {
  const n = ctx.quick ? 5 : 30;
  const part = newPart('pods', `${n} nginx pods (nginx:latest, imagePullPolicy IfNotPresent, image present) created one after another on a 2-node cluster, each waited for before the next; interleaved with ${n} raw-Docker pause+nginx pairs (DockerRuntime: runPodSandbox + createContainer + startContainer on the benchmark's own bridge network, mkl-bench-floor); one warm-up of each not counted`);
  await requireImages([PAUSE_IMAGE, NGINX_IMAGE]);

  const floorLabel = `bench-floor-pods-${ctx.runId}`;
  const floor = new RawDockerFloor(floorLabel);
  const floorTask = ctx.cleanup.add(`raw-Docker floor ${floorLabel}`, () => floor.tearDown());
  await floor.setUp();

  const { cluster, release } = await newCluster(ctx, 'pods', 2);
  await cluster.up();
  const client = cluster.client();
  const watch = new PodWatch(client, NS, LABEL);
  await watch.start();

  const ours: OurPod[] = [];
  const floors: PairTiming[] = [];
  await cluster.profileSegment('startup');
  part.profileSegments = ['pod-loop'];
  try {
    for (let i = -1; i < n; i++) {
      const tag = i < 0 ? 'warmup' : String(i);
      const runOurs = async () => {
        const p = await startOurPod(client, watch, `bench-pod-${tag}`);
        if (i >= 0) ours.push(p);
      };
      const runFloor = async () => {
        const p = await floor.startPair(i < 0 ? 999 : i, true);
        if (i >= 0) floors.push(p);
      };
      // Alternate which side goes first, so neither always gets the warmer (or quieter) moment.
      if (i % 2 === 0) {
        await runOurs();
        await runFloor();
      } else {
        await runFloor();
        await runOurs();
      }
      if (i >= 0 && (i + 1) % 10 === 0) ctx.log(`pods: ${i + 1}/${n}`);
    }
  } finally {
    watch.stop();
  }
  await cluster.profileSegment('pod-loop');

  const runtime = cluster.runtime();
  for (const p of ours) p.engine = await ourEngineTimes(runtime, p.marks.uid);
  const floorEngine = await Promise.all(floors.map((p) => floor.engineTimes(p)));

  const oursRunning = ours.map((p) => (p.marks.running ?? Number.NaN) - p.t0);
  const oursReady = ours.map((p) => (p.marks.ready ?? Number.NaN) - p.t0);
  const oursHttp = ours.map((p) => p.http - p.t0);
  const floorStarted = floors.map((p) => p.started - p.t0);
  const floorHttp = floors.map((p) => p.http - p.t0);
  const floorStartedRef = { label: 'raw Docker: → nginx started', value: summarize(floorStarted).p50, measured: true };
  const floorHttpRef = { label: 'raw Docker: → nginx answers', value: summarize(floorHttp).p50, measured: true };
  part.figures.push(
    { name: 'create → containers running (watch)', unit: 'ms', summary: summarize(oursRunning), spread: 'p99', references: [floorStartedRef], samples: oursRunning },
    { name: 'create → Ready (watch)', unit: 'ms', summary: summarize(oursReady), spread: 'p99', references: [floorHttpRef], samples: oursReady },
    { name: 'create → nginx answers HTTP', unit: 'ms', summary: summarize(oursHttp), spread: 'p99', references: [floorHttpRef], samples: oursHttp },
    { name: 'raw Docker floor → nginx answers', unit: 'ms', summary: summarize(floorHttp), spread: 'p99', references: [], samples: floorHttp },
  );

  // Phase breakdown from absolute marks (this process's clock and Docker's, both epoch ms).
  const none: EngineTimes = { sandboxCreated: Number.NaN, sandboxStarted: Number.NaN, appCreated: Number.NaN, appStarted: Number.NaN };
  const oe = ours.map((p) => p.engine ?? none);
  const bound = ours.map((p) => p.marks.bound ?? Number.NaN);
  const running = ours.map((p) => p.marks.running ?? Number.NaN);
  const ready = ours.map((p) => p.marks.ready ?? Number.NaN);
  const rows: [string, string, string][] = [
    ['request → bound (scheduler, seen by watch)', med(ours.map((p, i) => bound[i] - p.t0)), '—'],
    ['bound (ours) / first call (floor) → sandbox created', med(oe.map((e, i) => e.sandboxCreated - bound[i])), med(floorEngine.map((e, i) => e.sandboxCreated - floors[i].t0))],
    ['sandbox created → sandbox started', med(oe.map((e) => e.sandboxStarted - e.sandboxCreated)), med(floorEngine.map((e) => e.sandboxStarted - e.sandboxCreated))],
    ['sandbox started → nginx created', med(oe.map((e) => e.appCreated - e.sandboxStarted)), med(floorEngine.map((e) => e.appCreated - e.sandboxStarted))],
    ['nginx created → nginx started', med(oe.map((e) => e.appStarted - e.appCreated)), med(floorEngine.map((e) => e.appStarted - e.appCreated))],
    ['nginx started → running seen (ours: status via API + watch; floor: start call returns)', med(oe.map((e, i) => running[i] - e.appStarted)), med(floorEngine.map((e, i) => floors[i].started - e.appStarted))],
    ['running seen → Ready seen', med(ours.map((_, i) => ready[i] - running[i])), '—'],
    ['Ready seen (ours) / started (floor) → nginx answers', med(ours.map((p, i) => p.http - Math.max(ready[i], running[i]))), med(floors.map((p) => p.http - p.started))],
    ['total: request → nginx answers', med(oursHttp), med(floorHttp)],
  ];
  part.tables.push({ title: 'where the time goes (medians; Docker\'s own created/started times)', header: ['PHASE', 'OURS', 'FLOOR'], rows });
  part.details.pods = ours.map((p) => ({ name: p.marks.name, node: p.marks.node, t0: p.t0, bound: p.marks.bound, running: p.marks.running, ready: p.marks.ready, http: p.http, engine: p.engine }));
  part.details.floor = floors.map((p, i) => ({ ...p, engine: floorEngine[i] }));
  part.notes.push('Ready = Ready condition True as the watch sees it; the pods have no readiness probe, so it follows the containers running, and "nginx answers" is measured separately (HTTP GET from the host to the pod IP, every 5 ms).');
  part.notes.push('With fewer than 100 samples p99 is the slowest sample.');

  await release();
  const leftover = await floorTask.runReporting();
  if (leftover) part.notes.push(leftover);
  if (floor.networkLeft) part.notes.push(floor.networkLeft);
  return part;
}

