/**
 * The raw-Docker floor: what starting a pod costs with nothing but the engine. Through the
 * project's own Docker adapter (`DockerRuntime`, so no second Docker client), it does the
 * minimum a kubelet must do for one nginx pod — run a pause sandbox on a bridge network, create
 * nginx joined to it, start it — and waits until nginx answers HTTP from the host. Its
 * containers carry the label `minikube-lite.cluster=<label>` (and `minikube-lite.bench`), which
 * is how `tearDown` finds and removes them.
 *
 * The bridge network (`mkl-bench-floor`, a /24 of the benchmark's own range) is shared by every
 * part and run: Docker 20.10 now and then refuses to remove a network after many concurrent
 * container removals ("has active endpoints" with none attached, until dockerd restarts), and a
 * network that cannot be removed is then reused rather than a new one leaked each run.
 */
import PQueue from 'p-queue';
import { DockerRuntime } from '../runtime/docker.js';
import { nowMs } from './clock.js';
import { freeSubnet16, subnet24, SUBNET_POOLS } from './cluster.js';
import { waitForHttp } from './http.js';

export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const NGINX_IMAGE = 'nginx:latest';
const BENCH_LABEL = 'minikube-lite.bench';
/** The floor's bridge network, shared by parts and runs (see the file comment). */
export const FLOOR_NETWORK = 'mkl-bench-floor';

/** Marks of one pause+nginx pair, epoch ms (see `nowMs`). */
export interface PairTiming {
  index: number;
  ip: string;
  sandboxId: string;
  containerId: string;
  /** Before the first engine call. */
  t0: number;
  /** `runPodSandbox` returned (pause created, started and inspected). */
  sandboxReady: number;
  /** `createContainer` returned. */
  created: number;
  /** `startContainer` returned. */
  started: number;
  /** nginx answered HTTP (NaN when not waited for). */
  http: number;
}

/** Engine-side times of a pair, from Docker's own records (epoch ms). */
export interface EngineTimes {
  sandboxCreated: number;
  sandboxStarted: number;
  appCreated: number;
  appStarted: number;
}

export class RawDockerFloor {
  readonly runtime: DockerRuntime;
  readonly network = FLOOR_NETWORK;
  /** The engine without a cluster scope, for the shared network. */
  private readonly engine = new DockerRuntime();
  /** Set by `tearDown` when the shared network could not be removed (why, for the part's notes). */
  networkLeft?: string;

  /** @param label unique per part and run (e.g. `bench-floor-pods-<runId>`): the cluster label of its containers. */
  constructor(readonly label: string) {
    this.runtime = new DockerRuntime({ clusterLabel: label });
  }

  /** Creates the shared network in a free benchmark subnet, or reuses it. */
  async setUp(): Promise<void> {
    const existing = (await this.engine.listNetworks({ [BENCH_LABEL]: 'floor' })).find((n) => n.name === FLOOR_NETWORK);
    if (existing) return;
    const { subnet, gateway } = subnet24(await freeSubnet16(SUBNET_POOLS.floor), 1);
    await this.engine.ensureNetwork({ name: FLOOR_NETWORK, subnet, gateway, labels: { [BENCH_LABEL]: 'floor' } });
  }

  /**
   * Starts pair `index` (pause, then nginx joined to it); with `waitHttp`, also waits until nginx
   * answers (at most `timeoutMs`).
   */
  async startPair(index: number, waitHttp: boolean, timeoutMs = 60_000): Promise<PairTiming> {
    const name = `${this.label}-${index}`;
    const t0 = nowMs();
    const sandbox = await this.runtime.runPodSandbox({
      name: `${name}-pause`, hostname: name, network: this.network, image: PAUSE_IMAGE, labels: { [BENCH_LABEL]: 'floor' }, portMappings: [],
    });
    const sandboxReady = nowMs();
    const containerId = await this.runtime.createContainer(sandbox.id, {
      name: `${name}-nginx`, image: NGINX_IMAGE, env: [], mounts: [], labels: { [BENCH_LABEL]: 'floor' },
    });
    const created = nowMs();
    await this.runtime.startContainer(containerId);
    const started = nowMs();
    const http = waitHttp ? await waitForHttp(sandbox.ip, 80, t0 + timeoutMs) : Number.NaN;
    return { index, ip: sandbox.ip, sandboxId: sandbox.id, containerId, t0, sandboxReady, created, started, http };
  }

  /** Starts `count` pairs, at most `concurrency` at a time, each waited for until it answers HTTP. */
  async startPairs(first: number, count: number, concurrency: number): Promise<PairTiming[]> {
    const queue = new PQueue({ concurrency });
    const jobs = Array.from({ length: count }, (_, i) => queue.add(() => this.startPair(first + i, true)));
    return Promise.all(jobs) as Promise<PairTiming[]>;
  }

  /** Docker's created/started times of a pair. */
  async engineTimes(p: PairTiming): Promise<EngineTimes> {
    const [sb, app] = await Promise.all([this.runtime.containerStatus(p.sandboxId), this.runtime.containerStatus(p.containerId)]);
    return {
      sandboxCreated: sb?.createdAt.getTime() ?? Number.NaN,
      sandboxStarted: sb?.startedAt?.getTime() ?? Number.NaN,
      appCreated: app?.createdAt.getTime() ?? Number.NaN,
      appStarted: app?.startedAt?.getTime() ?? Number.NaN,
    };
  }

  /**
   * Stops (with `graceSeconds`, as a kubelet would) and removes the given pairs, at most
   * `concurrency` at a time; resolves when all are gone.
   */
  async removePairs(pairs: readonly PairTiming[], concurrency: number, graceSeconds: number): Promise<void> {
    const queue = new PQueue({ concurrency });
    await Promise.all(pairs.map((p) => queue.add(async () => {
      await this.runtime.stopContainer(p.containerId, graceSeconds);
      await this.runtime.removeContainer(p.containerId);
      await this.runtime.stopPodSandbox(p.sandboxId);
      await this.runtime.removePodSandbox(p.sandboxId);
    })));
  }

  /**
   * Removes this floor's containers, then the shared network unless another floor still uses
   * it or the engine refuses (see the file comment): then it stays, `networkLeft` says why, and
   * the next run reuses it.
   */
  async tearDown(): Promise<void> {
    const filter = {};
    const containers = await this.runtime.listContainers(filter);
    await Promise.all(containers.map((c) => this.runtime.removeContainer(c.id)));
    const sandboxes = await this.runtime.listPodSandboxes(filter);
    await Promise.all(sandboxes.map((s) => this.runtime.removePodSandbox(s.id)));
    try {
      await this.engine.removeNetwork(FLOOR_NETWORK);
    } catch (e) {
      if (!/active endpoints/i.test((e as Error).message)) throw e;
      this.networkLeft = `the raw-Docker floor's network ${FLOOR_NETWORK} was left in place (the engine says: ${(e as Error).message}); the next run reuses it`;
    }
  }
}
