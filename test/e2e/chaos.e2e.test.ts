/**
 * The chaos suite: faults a careful operator would try, on the real engine, each with a figure.
 * Short sizes by default (CI); `CHAOS_FULL=1` (or `npm run chaos`) runs the full sizes. The
 * Docker engine restart case restarts dockerd, so it runs only with `CHAOS_ENGINE_RESTART=1`,
 * on its own cluster. By default it restarts the machine's engine (`MKL_ENGINE_RESTART=1 bash
 * scripts/engine.sh`); to restart a private engine instead (other work on the machine's engine
 * goes on undisturbed), start one with scripts/engine.sh and run the suite with the same
 * `MKL_ENGINE_DIR` (and `MKL_ENGINE_DATA_ROOT`): every cluster and `docker` command of this file
 * then uses that engine, and the restart is that engine's. `MKL_CHAOS_DOCKER_HOST` and
 * `MKL_CHAOS_ENGINE_RESTART_CMD` (a bash command) name any other engine and restart.
 * The ≥500 hostile requests case is test/e2e/hostile.e2e.test.ts.
 *
 * Every case ends converged: exactly the wanted pods, one running sandbox and one running app
 * container per pod (counted with `docker ps` by the cluster label), all Ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, KubeObject, Node, Pod } from '../../src/api/types.js';
import { ApiClient, EVENTS, NODES, PODS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';
import { clusterProcesses } from './procs.js';

// The engine under test: every child (the CLI, its components, `docker`) inherits DOCKER_HOST.
const ENGINE_HOST = process.env.MKL_CHAOS_DOCKER_HOST ?? (process.env.MKL_ENGINE_DIR ? `unix://${process.env.MKL_ENGINE_DIR}/docker.sock` : undefined);
if (ENGINE_HOST) process.env.DOCKER_HOST = ENGINE_HOST;
const ENGINE_RESTART_CMD = process.env.MKL_CHAOS_ENGINE_RESTART_CMD ?? `MKL_ENGINE_RESTART=1 bash ${join(ROOT, 'scripts/engine.sh')}`;
const ENGINE_RUNS = Number(process.env.CHAOS_ENGINE_RUNS ?? '3');
const hasDocker = await dockerAvailable();
const FULL = process.env.CHAOS_FULL === '1';
const ENGINE_RESTART = process.env.CHAOS_ENGINE_RESTART === '1';
const SIZES = FULL ? { scale: 30, kubeletKill: 20, removed: 10, rollout: 6 } : { scale: 10, kubeletKill: 8, removed: 4, rollout: 4 };
const ref = { ...PODS, namespace: 'default' };

/** Figures for the closing table. */
const results: { fault: string; size: string; outcome: string; figure: string }[] = [];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Running sandboxes and app containers of the cluster, per pod uid. */
async function dockerPods(name: string): Promise<{ sandboxes: number; containers: number; dupPods: number; perPod: Map<string, { sb: number; app: number }> }> {
  const r = await sh('docker', ['ps', '--filter', `label=minikube-lite.cluster=${name}`, '--filter', 'label=io.kubernetes.pod.namespace=default', '--format', '{{.Names}} {{.Label "io.kubernetes.pod.uid"}}']);
  const perPod = new Map<string, { sb: number; app: number }>();
  let sandboxes = 0;
  let containers = 0;
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [n, uid] = line.split(' ');
    const e = perPod.get(uid) ?? { sb: 0, app: 0 };
    if (n.startsWith('k8s_POD_')) {
      e.sb++;
      sandboxes++;
    } else {
      e.app++;
      containers++;
    }
    perPod.set(uid, e);
  }
  const dupPods = [...perPod.values()].filter((e) => e.sb > 1 || e.app > 1).length;
  return { sandboxes, containers, dupPods, perPod };
}

/** A pod informer over the cluster and a way to wait (by watch) for a condition over all pods. */
class PodView {
  private readonly informer: Informer<Pod>;
  private readonly waiters = new Set<() => void>();

  constructor(client: ApiClient) {
    this.informer = new Informer<Pod>(client, ref, { onError: () => undefined });
    const poke = () => this.waiters.forEach((w) => w());
    this.informer.addHandlers({ onAdd: poke, onUpdate: poke, onDelete: poke });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): void {
    this.informer.stop();
  }

  list(): Pod[] {
    return this.informer.list();
  }

  until(ok: (pods: Pod[]) => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ok(this.list())) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const phases = this.list().map((p) => `${p.metadata?.name}:${p.status?.phase}/${p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ''}`);
        reject(new Error(`timed out waiting for ${what}; pods: ${phases.join(' ')}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }
}

const live = (pods: Pod[], prefix: string) => pods.filter((p) => p.metadata?.name?.startsWith(prefix) && !p.metadata?.deletionTimestamp);
const allReady = (n: number, prefix: string) => (pods: Pod[]) => {
  const mine = live(pods, prefix);
  return mine.length === n && mine.every(isRunning) && pods.filter((p) => p.metadata?.name?.startsWith(prefix)).length === n;
};

function deployment(name: string, replicas: number, image = 'nginx'): string {
  return [
    'apiVersion: apps/v1', 'kind: Deployment', `metadata: {name: ${name}}`, 'spec:', `  replicas: ${replicas}`, `  selector: {matchLabels: {app: ${name}}}`,
    '  strategy: {rollingUpdate: {maxUnavailable: 1, maxSurge: 1}}',
    '  template:', `    metadata: {labels: {app: ${name}}}`, '    spec:', '      terminationGracePeriodSeconds: 2',
    `      containers: [{name: app, image: ${image}, imagePullPolicy: IfNotPresent}]`, '',
  ].join('\n');
}

describe.skipIf(!hasDocker)(`the chaos suite, ${FULL ? 'full' : 'short'} sizes (skipped when no Docker engine answers \`docker info\`)`, () => {
  const cluster = new TestCluster(`e2e-trk-c${process.pid}`, '10.223.0.0/16');
  let view: PodView;

  beforeAll(async () => {
    // Short node timings so that the node-loss case evicts within seconds, not 5 minutes.
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR, '--node-monitor-grace-period', '4s', '--pod-eviction-timeout', '2s',
      '--node-status-update-frequency', '1s']);
    expect(r.code, r.stderr).toBe(0);
    view = new PodView(cluster.client());
    await view.start();
  }, 120_000);

  afterAll(async () => {
    view?.stop();
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    process.stdout.write(`\nChaos suite (${FULL ? 'full' : 'short'}):\n| Fault | Size | Outcome | Figure |\n|---|---|---|---|\n` +
      results.map((r) => `| ${r.fault} | ${r.size} | ${r.outcome} | ${r.figure} |`).join('\n') + '\n');
  }, 180_000);

  it(`control plane kill -9 during a 0→${SIZES.scale} scale-up, then \`up\`: exactly ${SIZES.scale} pods and ${2 * SIZES.scale} containers, all Ready`, async () => {
    const n = SIZES.scale;
    expect((await cluster.cli(['apply', '-f', '-'], { input: deployment('scale', 0) })).code).toBe(0);
    expect((await cluster.cli(['scale', 'deployment/scale', `--replicas=${n}`])).code).toBe(0);
    await view.until((pods) => live(pods, 'scale-').length >= Math.ceil(n / 3), 60_000, `${Math.ceil(n / 3)} pods`);
    const [cp] = clusterProcesses(cluster.name).filter((p) => p.command === 'controlplane');
    process.kill(cp.pid, 'SIGKILL');
    const t0 = Date.now();
    const up = await cluster.cli(['up'], { timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(clusterProcesses(cluster.name).filter((p) => p.command === 'kubelet')).toHaveLength(2);
    view.stop();
    view = new PodView(cluster.client());
    await view.start();
    await view.until(allReady(n, 'scale-'), 240_000, `${n} Ready pods`);
    const ms = Date.now() - t0;
    const d = await dockerPods(cluster.name);
    expect({ pods: live(view.list(), 'scale-').length, sandboxes: d.sandboxes, containers: d.containers, dupPods: d.dupPods }).toEqual({ pods: n, sandboxes: n, containers: n, dupPods: 0 });
    results.push({ fault: 'control plane kill -9 during a scale-up, then `up`', size: `0→${n} replicas, 2 nodes`, outcome: `${n} pods, ${d.sandboxes + d.containers} containers, all Ready, 1 kubelet per node`, figure: `${secs(ms)} from \`up\` to all Ready` });
  }, 400_000);

  it(`kubelet kill -9 while ${SIZES.kubeletKill} pods start: 0 duplicates after it is back`, async () => {
    const n = SIZES.kubeletKill;
    expect((await cluster.cli(['scale', 'deployment/scale', '--replicas=0'])).code).toBe(0);
    await view.until((pods) => live(pods, 'scale-').length === 0 && pods.filter((p) => p.metadata?.name?.startsWith('scale-')).length === 0, 120_000, 'scale-down');
    expect((await cluster.cli(['scale', 'deployment/scale', `--replicas=${n}`])).code).toBe(0);
    await view.until((pods) => live(pods, 'scale-').filter((p) => p.spec?.nodeName === 'node-1').length >= 1, 60_000, 'a pod on node-1');
    const [k] = clusterProcesses(cluster.name).filter((p) => p.command === 'kubelet' && p.argv.includes('node-1'));
    process.kill(k.pid, 'SIGKILL');
    const t0 = Date.now();
    const up = await cluster.cli(['up'], { timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    await view.until(allReady(n, 'scale-'), 240_000, `${n} Ready pods`);
    const ms = Date.now() - t0;
    const d = await dockerPods(cluster.name);
    expect({ sandboxes: d.sandboxes, containers: d.containers, dupPods: d.dupPods }).toEqual({ sandboxes: n, containers: n, dupPods: 0 });
    results.push({ fault: 'kubelet kill -9 while pods start, then `up`', size: `${n} pods starting`, outcome: `0 duplicate sandboxes or containers, ${n} Ready`, figure: `${secs(ms)} to all Ready` });
  }, 400_000);

  it(`containers removed and killed behind the kubelet's back are repaired`, async () => {
    const n = SIZES.removed;
    const total = SIZES.kubeletKill;
    const pods = live(view.list(), 'scale-').slice(0, 2 * n);
    const uids = pods.map((p) => p.metadata?.uid ?? '');
    const ids = async (uid: string, sandbox: boolean) => (await sh('docker', ['ps', '-q', '--filter', `label=io.kubernetes.pod.uid=${uid}`, '--filter', `name=${sandbox ? 'k8s_POD_' : 'k8s_app_'}`])).stdout.split('\n').filter(Boolean);
    const t0 = Date.now();
    // n pods lose their app container (docker rm -f), n more their sandbox (docker kill).
    for (const uid of uids.slice(0, n)) await sh('docker', ['rm', '-f', ...(await ids(uid, false))]);
    for (const uid of uids.slice(n)) await sh('docker', ['kill', ...(await ids(uid, true))]);
    const faultsMs = Date.now() - t0;
    const restarted = (p: Pod) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    await view.until((all) => allReady(total, 'scale-')(all) && live(all, 'scale-').filter((p) => uids.includes(p.metadata?.uid ?? '')).every(restarted), 120_000, 'repair');
    const ms = Date.now() - t0;
    const d = await dockerPods(cluster.name);
    expect({ sandboxes: d.sandboxes, containers: d.containers, dupPods: d.dupPods }).toEqual({ sandboxes: total, containers: total, dupPods: 0 });
    results.push({ fault: 'containers removed (`docker rm -f`) and sandboxes killed (`docker kill`) behind the kubelet', size: `${n} + ${n} pods`, outcome: 'all repaired, restart counted, 0 duplicates', figure: `${secs(ms - faultsMs)} after the last fault to all Ready (the ${2 * n} faults took ${secs(faultsMs)})` });
  }, 200_000);

  it('node loss during a rolling update: the rollout completes on the remaining node', async () => {
    const n = SIZES.rollout;
    expect((await cluster.cli(['scale', 'deployment/scale', '--replicas=0'])).code).toBe(0);
    expect((await cluster.cli(['apply', '-f', '-'], { input: deployment('roll', n) })).code).toBe(0);
    await view.until(allReady(n, 'roll-'), 120_000, `${n} roll pods`);
    const t0 = Date.now();
    expect((await cluster.cli(['rollout', 'restart', 'deployment/roll'])).code).toBe(0);
    const stop = await cluster.cli(['node', 'stop', 'node-2']);
    expect(stop.code, stop.stderr).toBe(0);
    const status = await cluster.cli(['rollout', 'status', 'deployment/roll', '--timeout=240s'], { timeoutMs: 250_000 });
    const ms = Date.now() - t0;
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/successfully rolled out/);
    await view.until((all) => {
      const mine = live(all, 'roll-');
      return mine.length === n && mine.every((p) => isRunning(p) && p.spec?.nodeName === 'node-1' &&
        p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'] !== undefined);
    }, 120_000, 'new pods on node-1');
    results.push({ fault: 'node loss (kubelet stopped, containers stopped) during a rolling update', size: `${n} replicas, 2 nodes → 1`, outcome: `rollout complete, ${n} new pods Ready on node-1`, figure: `${secs(ms)} from the update to rollout complete` });
    expect((await cluster.cli(['node', 'start', 'node-2'])).code).toBe(0);
  }, 400_000);
});

describe.skipIf(!hasDocker || !ENGINE_RESTART)(`the Docker engine restarted under a running cluster, ${ENGINE_RUNS} times (CHAOS_ENGINE_RESTART=1 only: it restarts ${ENGINE_HOST ?? 'the machine\'s'} dockerd)`, () => {
  // Its own cluster with the default node timings: a kubelet reports its node NotReady while the
  // engine does not answer, and Kubernetes evicts only after the pods' 300 s not-ready toleration.
  const cluster = new TestCluster(`e2e-eng-c${process.pid}`, '10.201.0.0/16');
  const n = FULL ? 10 : 8;
  let view: PodView;

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR]);
    expect(r.code, r.stderr).toBe(0);
    view = new PodView(cluster.client());
    await view.start();
    expect((await cluster.cli(['apply', '-f', '-'], { input: deployment('engine', n) })).code).toBe(0);
    await view.until(allReady(n, 'engine-'), 120_000, `${n} Ready pods`);
  }, 240_000);

  afterAll(async () => {
    view?.stop();
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    process.stdout.write(`\nEngine restart (${ENGINE_HOST ?? 'machine engine'}):\n| Fault | Size | Outcome | Figure |\n|---|---|---|---|\n` +
      results.filter((r) => r.fault.startsWith('Docker engine')).map((r) => `| ${r.fault} | ${r.size} | ${r.outcome} | ${r.figure} |`).join('\n') + '\n');
  }, 180_000);

  it(`every pod comes back Ready after each restart: same pods, a new sandbox, restart count + 1, no duplicate, dead or stuck container`, async () => {
    // Kubernetes: when the runtime restarts without keeping its containers (dockerd without
    // live-restore), the kubelet finds each pod's sandbox dead and makes a new one (attempt + 1),
    // starting the containers again with their restart counts + 1, as after a node reboot.
    const restarts = (p: Pod) => p.status?.containerStatuses?.[0]?.restartCount ?? 0;
    const figures: number[] = [];
    const engineBack: number[] = [];
    // Nodes seen NotReady because of the runtime, per run (the kubelet pings it every 2 s).
    const nodes = new Informer<Node>(cluster.client(), NODES, { onError: () => undefined });
    const downSeen = new Set<string>();
    const noteDown = (node: Node) => {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'False' && ready.message?.startsWith('container runtime is down')) downSeen.add(node.metadata?.name ?? '');
    };
    nodes.addHandlers({ onAdd: noteDown, onUpdate: (_o, node) => noteDown(node) });
    await nodes.start();
    const seenPerRun: number[] = [];
    for (let run = 1; run <= ENGINE_RUNS; run++) {
      const before = new Map(live(view.list(), 'engine-').map((p) => [p.metadata?.uid ?? '', restarts(p)]));
      expect(before.size).toBe(n);
      const t0 = Date.now();
      downSeen.clear();
      const r = await sh('bash', ['-c', ENGINE_RESTART_CMD], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      engineBack.push(Date.now() - t0);
      await view.until((all) => {
        const mine = live(all, 'engine-');
        return allReady(n, 'engine-')(all) && mine.every((p) => before.get(p.metadata?.uid ?? '') === restarts(p) - 1 &&
          new Date(p.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? 0).getTime() >= t0 - 1000);
      }, 300_000, `pods back after engine restart ${run}`);
      figures.push(Date.now() - t0);
      seenPerRun.push(downSeen.size);
      const d = await dockerPods(cluster.name);
      expect({ sandboxes: d.sandboxes, containers: d.containers, dupPods: d.dupPods }).toEqual({ sandboxes: n, containers: n, dupPods: 0 });
      // Nothing dead or stuck in removal, and every running sandbox is the pod's attempt `run`.
      const all = await sh('docker', ['ps', '-a', '--filter', `label=minikube-lite.cluster=${cluster.name}`, '--format', '{{.Names}} {{.State}}']);
      const lines = all.stdout.split('\n').filter(Boolean);
      expect(lines.filter((l) => / (dead|removing)$/.test(l))).toEqual([]);
      const sandboxes = lines.filter((l) => l.startsWith('k8s_POD_engine-') && l.endsWith(' running')).map((l) => l.split(' ')[0]);
      expect(sandboxes.filter((name) => !name.endsWith(`_${run}`))).toEqual([]);
    }
    nodes.stop();
    const sorted = [...figures].sort((a, b) => a - b);
    results.push({
      fault: 'Docker engine restarted (dockerd SIGTERM, then started)', size: `${n} pods on 2 nodes, ${ENGINE_RUNS} restarts`,
      outcome: 'same pods back Ready in new sandboxes, restart count + 1 each time, 0 duplicate or dead containers',
      figure: `${figures.map(secs).join(', ')} to all Ready (median ${secs(sorted[Math.floor(sorted.length / 2)])}); dockerd itself back after ` +
        `${engineBack.map(secs).join(', ')}; nodes seen NotReady ("container runtime is down"): ${seenPerRun.join(', ')} of 2`,
    });
  }, 1_200_000);

  it('a sandbox the engine cannot remove (its root filesystem busy, as after the restart bug) does not hold back the pod\'s deletion; its removal is retried until it works', async () => {
    // Docker's failure, made on purpose: a mount on the sandbox's overlay directory in a view of
    // the host's root beneath the engine's bind mount (where the restart bug leaves them) makes
    // removing it fail with "device or resource busy" and leaves it dead ("Removal In Progress").
    const [pod] = live(view.list(), 'engine-');
    const uid = pod.metadata?.uid ?? '';
    const sandbox = (await sh('docker', ['ps', '-q', '--no-trunc', '--filter', `label=io.kubernetes.pod.uid=${uid}`, '--filter', 'name=k8s_POD_'])).stdout.trim().split('\n')[0];
    const merged = (await sh('docker', ['inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', sandbox])).stdout.trim();
    expect(merged).toMatch(/^\/.+\/merged$/);
    const rootView = mkdtempSync(join(tmpdir(), 'mkl-eng-rootview-'));
    let busy = false;
    try {
      expect((await sh('mount', ['--bind', '/', rootView])).code).toBe(0);
      busy = (await sh('mount', ['-t', 'tmpfs', 'mkl-eng-busy', join(rootView, merged)])).code === 0;
      expect(busy).toBe(true);
      const t0 = Date.now();
      await cluster.client().delete(ref, pod.metadata?.name ?? '');
      await view.until((all) => !all.some((p) => p.metadata?.uid === uid), 60_000, 'the pod gone from the API');
      const deletedMs = Date.now() - t0;
      const state = (await sh('docker', ['inspect', '-f', '{{.State.Status}}', sandbox])).stdout.trim();
      expect(state).toMatch(/^(dead|removing)$/);
      const events = (await cluster.client().list<Event & KubeObject>({ ...EVENTS, namespace: 'default' })).items
        .filter((e) => e.involvedObject?.uid === uid && e.reason === 'ContainerGCFailed');
      expect(events.map((e) => e.message)).toEqual([expect.stringMatching(/^Failed to remove pod sandbox [0-9a-f]{12}: .*device or resource busy; it is retried later$/)]);
      // The engine can remove it again: a later retry of the kubelet (its resync every 10 s at the latest) does.
      expect((await sh('umount', [join(rootView, merged)])).code).toBe(0);
      busy = false;
      const t1 = Date.now();
      let gone = false;
      while (!gone && Date.now() - t1 < 60_000) {
        gone = (await sh('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${uid}`])).stdout.trim() === '';
        if (!gone) await new Promise((r) => setTimeout(r, 500));
      }
      expect(gone).toBe(true);
      results.push({
        fault: 'Docker engine: a sandbox whose removal fails (root filesystem busy)', size: '1 pod deleted',
        outcome: 'pod deleted anyway, ContainerGCFailed event once, dead sandbox removed by a later retry',
        figure: `pod gone from the API in ${secs(deletedMs)}; dead sandbox removed ${secs(Date.now() - t1)} after the engine could again`,
      });
    } finally {
      if (busy) await sh('umount', [join(rootView, merged)]);
      await sh('umount', [rootView]);
      rmdirSync(rootView);
    }
    await view.until(allReady(n, 'engine-'), 120_000, `${n} Ready pods again`);
  }, 300_000);
});
