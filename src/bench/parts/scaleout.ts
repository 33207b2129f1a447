/**
 * `scaleout`: a Deployment scaled 0 → N through the `apps/v1` scale subresource until every
 * replica is Ready and answers HTTP, then N → 0 until every container is gone. In the same run:
 * (a) the raw-Docker floor starting N pause+nginx pairs at several parallelisms (the best one is
 * the floor), and (b) docker-compose (`up -d --scale web=N`, then `--scale web=0`, `down -v`).
 *
 * The Deployment API and controllers may not exist in the build being measured: then our side
 * is skipped with the reason, and the peers are still measured.
 */
import { ApiError } from '../../api/errors.js';
import type { Deployment, KubeObject } from '../../api/types.js';
import type { ApiClient, ResourceRef } from '../../client/client.js';
import type { DockerRuntime } from '../../runtime/docker.js';
import { nowMs } from '../clock.js';
import { type BenchCluster, freeSubnet16, newCluster, subnet24, SUBNET_POOLS } from '../cluster.js';
import { ComposePeer } from '../compose.js';
import type { BenchContext } from '../context.js';
import { NGINX_IMAGE, PAUSE_IMAGE, RawDockerFloor } from '../floor.js';
import { waitForHttp } from '../http.js';
import { PodWatch } from '../podwatch.js';
import { formatValue, newPart, type PartResult, type Reference } from '../report.js';
import { single, summarize } from '../stats.js';
import { ourEngineTimes, requireImages } from './pods.js';

const NS = 'default';
const NAME = 'bench-web';
const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments', namespace: NS };

/** Why the API server cannot take our side of the benchmark, or undefined when it can. */
export async function deploymentsMissing(client: ApiClient): Promise<string | undefined> {
  try {
    const doc = await client.request<{ resources?: { name: string }[] }>('GET', '/apis/apps/v1');
    const names = new Set((doc.resources ?? []).map((r) => r.name));
    if (!names.has('deployments')) return 'the API server does not serve apps/v1 deployments yet';
    if (!names.has('deployments/scale')) return 'the API server does not serve the deployments/scale subresource yet';
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return 'the API server does not serve the apps/v1 group yet';
    throw e;
  }
  return undefined;
}

/**
 * Resolves true once a watch shows the Deployment's `status.observedGeneration` (set only by a
 * running Deployment controller), false after `timeoutMs`.
 */
function controllerObserves(client: ApiClient, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.stop();
      resolve(false);
    }, timeoutMs);
    const handle = client.watch<KubeObject & { status?: { observedGeneration?: number } }>(DEPLOYMENTS, { fieldSelector: `metadata.name=${NAME}` }, (e) => {
      if ((e.type === 'ADDED' || e.type === 'MODIFIED') && e.object.status?.observedGeneration !== undefined) {
        clearTimeout(timer);
        handle.stop();
        resolve(true);
      }
    });
    handle.done.catch((err: unknown) => {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

function deployment(): Deployment & KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: NAME, namespace: NS, labels: { app: NAME } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME, bench: 'scaleout' } },
        spec: { containers: [{ name: 'nginx', image: NGINX_IMAGE, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

/** Sets replicas through the scale subresource (merge PATCH, as `kubectl scale` does; GET+PUT if PATCH is refused). */
export async function scaleDeployment(client: ApiClient, replicas: number): Promise<void> {
  try {
    await client.patch(DEPLOYMENTS, NAME, { spec: { replicas } }, 'scale');
  } catch (e) {
    if (!(e instanceof ApiError && (e.code === 405 || e.code === 415))) throw e;
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/${NAME}/scale`;
    const scale = await client.request<KubeObject & { spec?: { replicas?: number } }>('GET', path);
    await client.request('PUT', path, { ...scale, spec: { ...scale.spec, replicas } });
  }
}

/** Per phase, each pod's time (ms) after the scale request (ours) or the batch's first call (floor). */
type Timeline = Record<string, number[]>;

interface OursResult {
  timeline: Timeline;
  readyEach: number[];
  allReady: number;
  allHttp: number;
  podsGone: number;
  /** NaN when some containers were still there after 120 s (see `leftovers`). */
  containersGone: number;
  leftovers: string[];
  /** Containers seen gone by a re-list, their destroy event never delivered. */
  missedDestroyEvents: number;
}

/**
 * Resolves once none of `ids` exists: destroy events mark them gone as they come, and a re-list
 * every 200 ms catches any the runtime's event stream does not deliver (it drops events Docker
 * sends out of timestamp order, which concurrent removals produce). Resolves with the time
 * (epoch ms; NaN after `timeoutMs`), how many only a re-list saw go, and the ids left.
 */
function trackGone(runtime: DockerRuntime, ids: Set<string>, timeoutMs: number, log: (msg: string) => void): Promise<{ at: number; missedEvents: number; left: string[] }> {
  const remaining = new Set(ids);
  let missedEvents = 0;
  return new Promise((resolve) => {
    let finished = false;
    let checking = false;
    const finish = (at: number) => {
      if (finished) return;
      finished = true;
      clearInterval(poll);
      clearTimeout(timer);
      unsubscribe();
      resolve({ at, missedEvents, left: [...remaining] });
    };
    const unsubscribe = runtime.onContainerEvent((e) => {
      if (e.action === 'destroy' && remaining.delete(e.id) && remaining.size === 0) finish(nowMs());
    });
    const poll = setInterval(() => {
      if (checking || finished) return;
      checking = true;
      Promise.all([runtime.listContainers({}), runtime.listPodSandboxes({})]).then(([cs, ss]) => {
        const exist = new Set([...cs.map((c) => c.id), ...ss.map((x) => x.id)]);
        for (const id of [...remaining]) {
          if (!exist.has(id)) {
            remaining.delete(id);
            missedEvents++;
          }
        }
        if (remaining.size === 0) finish(nowMs());
      }, (err: unknown) => {
        // A failed re-list is retried on the next tick; the events keep counting meanwhile.
        log(`scaleout: re-listing containers failed: ${(err as Error).message}`);
      }).finally(() => {
        checking = false;
      });
    }, 200);
    const timer = setTimeout(() => finish(Number.NaN), timeoutMs);
  });
}

async function measureOurs(ctx: BenchContext, replicas: number, cluster: BenchCluster): Promise<OursResult> {
  const client = cluster.client();
  const runtime = cluster.runtime();
  const watch = new PodWatch(client, NS, `app=${NAME}`);
  await watch.start();
  try {
    const probes = new Map<string, Promise<number>>();
    let t0 = 0;
    watch.onChange((m) => {
      if (m.ready !== undefined && m.ip && !probes.has(m.name) && m.deleted === undefined) probes.set(m.name, waitForHttp(m.ip, 80, t0 + 300_000));
    });
    await cluster.profileSegment('startup');
    t0 = nowMs();
    await scaleDeployment(client, replicas);
    await watch.until(() => (watch.live().filter((m) => m.ready !== undefined).length >= replicas ? true : undefined), 300_000, `${replicas} replicas Ready`);
    const ready = watch.live().map((m) => (m.ready ?? Number.NaN) - t0);
    const http = await Promise.all([...probes.values()]);
    await cluster.profileSegment('scale-up');
    const live = watch.live();
    const engine = await Promise.all(live.map((m) => ourEngineTimes(runtime, m.uid)));
    const rel = (f: (i: number) => number | undefined) => live.map((_, i) => (f(i) ?? Number.NaN) - t0);
    const timeline: Timeline = {
      'pod created (seen by watch)': rel((i) => live[i].seen),
      'bound (seen by watch)': rel((i) => live[i].bound),
      'sandbox created': rel((i) => engine[i]?.sandboxCreated),
      'sandbox started': rel((i) => engine[i]?.sandboxStarted),
      'nginx created': rel((i) => engine[i]?.appCreated),
      'nginx started': rel((i) => engine[i]?.appStarted),
      'running seen (floor: start call returned)': rel((i) => live[i].running),
      'Ready seen': rel((i) => live[i].ready),
      'answers HTTP': http.map((t) => t - t0),
    };
    ctx.log(`scaleout: ${replicas} replicas Ready after ${formatValue(Math.max(...ready), 'ms')}, answering after ${formatValue(Math.max(...http) - t0, 'ms')}`);

    // Scale to zero: every container (app and sandbox) of the cluster must be destroyed.
    const [containers, sandboxes] = await Promise.all([runtime.listContainers({}), runtime.listPodSandboxes({})]);
    const gone = trackGone(runtime, new Set([...containers.map((c) => c.id), ...sandboxes.map((s) => s.id)]), 120_000, ctx.log);
    const t1 = nowMs();
    await scaleDeployment(client, 0);
    await watch.until(() => (watch.live().length === 0 ? true : undefined), 300_000, 'all replicas deleted');
    const podsGone = nowMs() - t1;
    const { at, missedEvents, left } = await gone;
    await cluster.profileSegment('scale-down');
    const leftovers = await Promise.all(left.map(async (id) => {
      const st = await runtime.containerStatus(id);
      return st ? `${st.name} (${st.state}${st.state === 'exited' ? ` ${st.exitCode}` : ''})` : `${id.slice(0, 12)} (gone by now)`;
    }));
    if (leftovers.length) ctx.log(`scaleout: ${leftovers.length} containers still exist 120 s after scaling to 0: ${leftovers.join(', ')}`);
    return { timeline, readyEach: ready, allReady: Math.max(...ready), allHttp: Math.max(...http) - t0, podsGone, containersGone: at - t1, leftovers, missedDestroyEvents: missedEvents };
  } finally {
    watch.stop();
  }
}

export async function runScaleout(ctx: BenchContext): Promise<PartResult> {
  const replicas = ctx.quick ? 6 : 30;
  const levels = ctx.quick ? [4] : [2, 4, 8, 16, 30];
  const part = newPart('scaleout', `a Deployment (nginx:latest, IfNotPresent) on a 2-node cluster scaled 0 → ${replicas} via deployments/scale until every replica is Ready and answers HTTP, then → 0 until every container is destroyed; raw-Docker floor: ${replicas} pause+nginx pairs at parallelism ${levels.join(', ')} (best counts); docker-compose: one nginx service, up -d --scale web=${replicas}`);
  await requireImages([PAUSE_IMAGE, NGINX_IMAGE]);

  // Ours.
  let ours: OursResult | undefined;
  {
    const { cluster, release } = await newCluster(ctx, 'scaleout', 2);
    await cluster.up();
    const client = cluster.client();
    let missing = await deploymentsMissing(client);
    if (!missing) {
      await client.create(DEPLOYMENTS, deployment());
      if (!(await controllerObserves(client, 20_000))) missing = 'no Deployment controller acted on a new Deployment within 20 s (the control plane does not run src/controllers/manager.ts yet)';
    }
    if (missing) {
      part.skipped = `minikube-lite side: ${missing}`;
      ctx.log(`scaleout: ours skipped: ${missing}`);
    } else {
      ours = await measureOurs(ctx, replicas, cluster);
      part.profileSegments = ['scale-up', 'scale-down'];
    }
    await release();
  }

  // (a) The raw-Docker floor at each parallelism.
  const floorLabel = `bench-floor-scaleout-${ctx.runId}`;
  const floor = new RawDockerFloor(floorLabel);
  const floorTask = ctx.cleanup.add(`raw-Docker floor ${floorLabel}`, () => floor.tearDown());
  await floor.setUp();
  const floorRuns: { concurrency: number; startMs: number; removeMs: number; timeline: Timeline }[] = [];
  for (const concurrency of levels) {
    const t0 = nowMs();
    const pairs = await floor.startPairs(concurrency * 1000, replicas, concurrency);
    const startMs = Math.max(...pairs.map((p) => p.http)) - t0;
    const engine = await Promise.all(pairs.map((p) => floor.engineTimes(p)));
    const timeline: Timeline = {
      'sandbox created': engine.map((e) => e.sandboxCreated - t0),
      'sandbox started': engine.map((e) => e.sandboxStarted - t0),
      'nginx created': engine.map((e) => e.appCreated - t0),
      'nginx started': engine.map((e) => e.appStarted - t0),
      'running seen (floor: start call returned)': pairs.map((p) => p.started - t0),
      'answers HTTP': pairs.map((p) => p.http - t0),
    };
    const t1 = nowMs();
    await floor.removePairs(pairs, concurrency, 30);
    const removeMs = nowMs() - t1;
    floorRuns.push({ concurrency, startMs, removeMs, timeline });
    ctx.log(`scaleout: floor at parallelism ${concurrency}: ${formatValue(startMs, 'ms')} to start, ${formatValue(removeMs, 'ms')} to remove`);
  }
  const leftover = await floorTask.runReporting();
  if (leftover) part.notes.push(leftover);
  if (floor.networkLeft) part.notes.push(floor.networkLeft);
  const bestStart = floorRuns.reduce((a, b) => (b.startMs < a.startMs ? b : a));
  const bestRemove = floorRuns.reduce((a, b) => (b.removeMs < a.removeMs ? b : a));

  // (b) docker-compose.
  let compose: { upMs: number; httpMs: number; scaleDownMs: number; downMs: number; version: string } | undefined;
  const version = await ComposePeer.version();
  if (!version) {
    part.notes.push('docker-compose is not installed (scripts/bench.sh installs Debian\'s): its peer figures are missing.');
  } else {
    const peer = new ComposePeer(`mklbench${ctx.runId}`, subnet24(await freeSubnet16(SUBNET_POOLS.compose), 1).subnet);
    const task = ctx.cleanup.add(`compose project ${peer.project}`, async () => { await peer.down(); });
    const t0 = nowMs();
    const up = await peer.scale(replicas);
    const ips = await peer.ips();
    const http = await Promise.all(ips.map((ip) => waitForHttp(ip, 80, t0 + 300_000)));
    const httpMs = Math.max(...http) - t0;
    const scaleDown = await peer.scale(0);
    const left = await peer.containerCount();
    const down = await peer.down();
    await task.run();
    compose = { upMs: up.ms, httpMs, scaleDownMs: scaleDown.ms, downMs: down?.ms ?? Number.NaN, version };
    if (left > 0) part.notes.push(`docker-compose --scale web=0 left ${left} containers (removed by down -v).`);
    ctx.log(`scaleout: docker-compose: up ${formatValue(up.ms, 'ms')}, answering ${formatValue(httpMs, 'ms')}, scale to 0 ${formatValue(scaleDown.ms, 'ms')}`);
  }

  const startRefs: Reference[] = [{ label: `raw Docker (parallelism ${bestStart.concurrency})`, value: bestStart.startMs, measured: true }];
  if (compose) startRefs.push({ label: 'docker-compose up --scale', value: compose.httpMs, measured: true });
  const stopRefs: Reference[] = [{ label: `raw Docker stop+rm (parallelism ${bestRemove.concurrency})`, value: bestRemove.removeMs, measured: true }];
  if (compose) stopRefs.push({ label: 'docker-compose --scale web=0', value: compose.scaleDownMs, measured: true });
  if (ours) {
    part.figures.push(
      { name: `scale 0 → ${replicas}: all answer HTTP`, unit: 'ms', summary: single(ours.allHttp), spread: 'minmax', references: startRefs },
      { name: `scale 0 → ${replicas}: all Ready (watch)`, unit: 'ms', summary: single(ours.allReady), spread: 'minmax', references: [] },
      { name: `scale 0 → ${replicas}: each replica Ready`, unit: 'ms', summary: summarize(ours.readyEach), spread: 'p99', references: [], samples: ours.readyEach },
      { name: `scale ${replicas} → 0: all pods deleted (watch)`, unit: 'ms', summary: single(ours.podsGone), spread: 'minmax', references: [] },
      { name: `scale ${replicas} → 0: all containers gone`, unit: 'ms', summary: single(ours.containersGone), spread: 'minmax', references: stopRefs },
    );
  }
  if (ours && ours.leftovers.length > 0) part.notes.push(`After scaling to 0, ${ours.leftovers.length} of the cluster's containers were still there 120 s later: ${ours.leftovers.join(', ')}.`);
  if (ours && ours.missedDestroyEvents > 0) part.notes.push(`${ours.missedDestroyEvents} container destroy events never came through the runtime's event stream (seen gone by a re-list, every 200 ms, so "all containers gone" may read up to ~200 ms late).`);
  part.figures.push({ name: `raw Docker: ${replicas} pairs answer (best parallelism)`, unit: 'ms', summary: single(bestStart.startMs), spread: 'minmax', references: [] });
  if (compose) part.figures.push({ name: `docker-compose: ${replicas} answer`, unit: 'ms', summary: single(compose.httpMs), spread: 'minmax', references: [] });
  part.tables.push({
    title: `raw-Docker floor by parallelism (${replicas} pairs)`,
    header: ['PARALLELISM', 'START → ALL ANSWER', 'STOP+REMOVE ALL'],
    rows: floorRuns.map((r) => [String(r.concurrency), formatValue(r.startMs, 'ms'), formatValue(r.removeMs, 'ms')]),
  });
  if (compose) part.notes.push(`docker-compose ${compose.version}: up -d --scale exits after ${formatValue(compose.upMs, 'ms')} (containers started), all answer after ${formatValue(compose.httpMs, 'ms')}; --scale web=0 ${formatValue(compose.scaleDownMs, 'ms')}; down -v ${formatValue(compose.downMs, 'ms')}. Its replicas are single containers (no pause sandbox).`);
  part.notes.push('Stop grace: ours and the floor 30 s (the pod default), compose 10 s (its default); nginx exits on SIGTERM at once, so the grace period is not waited out.');
  if (ours) {
    const cell = (xs: number[] | undefined, q: 'p50' | 'max') => (xs ? formatValue(summarize(xs.filter(Number.isFinite))[q], 'ms') : '—');
    part.tables.push({
      title: `timeline of the ${replicas} replicas: time after the scale request (ours) / the first call (floor at parallelism ${bestStart.concurrency}), median and last`,
      header: ['PHASE', 'OURS P50', 'OURS LAST', 'FLOOR P50', 'FLOOR LAST'],
      rows: Object.entries(ours.timeline).map(([phase, xs]) => [phase, cell(xs, 'p50'), cell(xs, 'max'), cell(bestStart.timeline[phase], 'p50'), cell(bestStart.timeline[phase], 'max')]),
    });
  }
  part.details = { replicas, ours, floorRuns, compose };
  return part;
}
