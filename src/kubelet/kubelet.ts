/**
 * The kubelet of one node. It registers the Node (its Docker network is the node's pod subnet),
 * keeps its heartbeat, watches the pods bound to the node, and drives each pod towards its spec
 * through the runtime, one serialized worker per pod, reporting status and events back to the
 * API server. It talks to the control plane only through the API client.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, Node, NodeCondition, Pod, Service } from '../api/types.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { LABEL_CLUSTER, LABEL_NODE } from '../api/types.js';
import { ApiError } from '../api/errors.js';
import { ApiClient, NODES, PODS, SERVICES } from '../client/client.js';
import { renewNodeLease } from './lease.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import type { Runtime, SandboxStatus } from '../runtime/types.js';
import { DEFAULT_BACKOFF, PullBackoff, type BackoffPolicy } from './backoff.js';
import { realClock, type Clock } from './clock.js';
import { ActionRunner } from './handlers.js';
import { ImageManager, type Recorder } from './images.js';
import { ContainerLifecycle, gracePeriodFor, MIN_GRACE_SECONDS, specOf } from './lifecycle.js';
import {
  LABEL_CONTAINER_NAME, LABEL_POD_UID, LABEL_SANDBOX_ATTEMPT, nodeNetworkName, podLabels, sandboxName, type NodeIdentity,
} from './naming.js';
import { computePodActions, currentSandbox, instancesOf, sidecarsOf, type PodActions, type PodRuntimeState } from './plan.js';
import { PodWorkers } from './podworkers.js';
import { ProbeManager, type ProbedContainer } from './prober.js';
import { computePodStatus, rfc3339, type Waiting } from './status.js';
import { MountError, VolumeManager } from './volumes.js';
import { ApiClaimResolver } from './claims.js';
import { ConfigSource, referencedObjects } from './configsource.js';
import { TokenManager } from './tokens.js';
import { startKubeletServer, type KubeletServer } from './server.js';
import { StatsProvider } from './stats.js';
import { jsonEqual } from '../api/json.js';
import { formatResolvConf, hostResolvConf, PodFiles, podFileMounts, podHostname, podHostsFile, podResolvConf, type KubeletDnsSettings } from './dns.js';
import { NO_TRACE, type Tracer } from '../trace/recorder.js';
import { traceKubeletSaw, traceSandbox } from '../trace/kubelet.js';
import { serviceEnvFor } from './envvars.js';

export const DEFAULT_PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const KUBELET_VERSION = 'v1.32.0-minikube-lite';
/** How long the runtime may take to answer the kubelet's health ping before it counts as down. */
export const RUNTIME_PING_TIMEOUT_MS = 10_000;

export interface KubeletOptions {
  client: ApiClient;
  /**
   * When set, `start` makes the node's network first and then waits up to this long for the
   * API server's readyz (a kubelet started beside the API server); else the API must answer.
   */
  apiReadyTimeoutMs?: number;
  runtime: Runtime;
  cluster: string;
  nodeName: string;
  /** The node's pod subnet, e.g. `10.244.1.0/24`; its `.1` is the node's address. */
  podCIDR: string;
  /**
   * The cluster's pod CIDR (all nodes' subnets). When set, the kubelet lets pods of all nodes
   * reach each other without NAT once its network exists.
   */
  clusterCIDR?: string;
  /** Token the kubelet's own server requires (the API server proxies logs/exec with it). */
  token: string;
  nodeLabels?: Record<string, string>;
  /** Taints the Node is registered with (kubelet's `--register-with-taints`), on first registration only. */
  nodeTaints?: Taint[];
  capacity?: { cpu?: string; memory?: string; pods?: string };
  pauseImage?: string;
  /** Port of the kubelet's server (0 = any free port). */
  serverPort?: number;
  /**
   * Address the kubelet's server binds to and reports as the node's InternalIP; defaults to the
   * node network's gateway (the node's own address on its pod subnet).
   */
  address?: string;
  /** Time for probes, back-off, hooks and retries (default: the wall clock and Node's timers). */
  clock?: Clock;
  heartbeatMs?: number;
  resyncMs?: number;
  /**
   * How often the kubelet pings the container runtime (Kubernetes' `updateRuntimeUp`, default
   * 2 s). While it does not answer, the Node is Ready=False ("container runtime is down: …");
   * when it answers again every pod is re-listed and synced at once.
   */
  runtimeCheckMs?: number;
  /** Restart (and image pull) back-off; default 10 s doubling to 5 min. */
  backoff?: BackoffPolicy;
  log?: (msg: string) => void;
  recorder?: Recorder;
  /** Where the kubelet traces what it does for each pod (default: nowhere; see src/trace). */
  tracer?: Tracer;
  /** Cluster DNS server IPs (`--cluster-dns`); pods with dnsPolicy ClusterFirst use them. */
  clusterDNS?: string[];
  /** The cluster domain (`--cluster-domain`, default `cluster.local`). */
  clusterDomain?: string;
  /** The resolver file `dnsPolicy: Default` pods inherit (`--resolv-conf`, default /etc/resolv.conf; '' = none). */
  resolvConf?: string;
  /**
   * Where the kubelet keeps per-pod files (`--root-dir`, Kubernetes' `/var/lib/kubelet`):
   * `<rootDir>/pods/<uid>/` holds the pod's etc-hosts and resolv.conf and its configuration
   * volumes (`volumes/kubernetes.io~<kind>/<name>`). Default: a fresh temporary folder, removed
   * by `stop()` (for tests; `up` always passes one inside the cluster's directory).
   */
  rootDir?: string;
}

/** `10.244.1.0/24` → `10.244.1.1` */
export function gatewayOf(cidr: string): string {
  const [ip] = cidr.split('/');
  const parts = ip.split('.').map(Number);
  parts[3] = parts[3] + 1;
  return parts.join('.');
}

export class Kubelet {
  private readonly client: ApiClient;
  /** The Node's uid once registered (the owner of its Lease). */
  private nodeUid?: string;
  private readonly runtime: Runtime;
  private readonly id: NodeIdentity;
  private readonly clock: Clock;
  private readonly log: (msg: string) => void;
  private readonly recorder: Recorder;
  private readonly tracer: Tracer;
  private readonly images: ImageManager;
  private readonly volumes: VolumeManager;
  private readonly config: ConfigSource;
  /** The root directory this kubelet made for itself (no `rootDir` given); removed on stop. */
  private readonly tempRootDir?: string;
  private readonly tokens: TokenManager;
  private readonly workers: PodWorkers;
  private readonly probes: ProbeManager;
  private readonly containers: ContainerLifecycle;
  private readonly backoff: BackoffPolicy;
  private readonly hostIP: string;
  private informer?: Informer<Pod>;
  private services?: Informer<Service>;
  private readonly podFiles: PodFiles;
  /** `/stats/summary`: CPU and memory of this node's pods and of the kubelet. */
  private readonly stats: StatsProvider;
  private dns: KubeletDnsSettings;
  private readonly uidToKey = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribeRuntime?: () => void;
  private server?: KubeletServer;
  private stopped = false;
  /** Why the runtime does not answer (undefined while it does). */
  private runtimeDown?: string;
  private checkingRuntime = false;
  /** Containers and sandboxes the engine refused to remove, by id → its sentence (retried on later syncs). */
  private readonly unremovable = new Map<string, string>();

  constructor(private readonly opts: KubeletOptions) {
    this.client = opts.client;
    this.runtime = opts.runtime;
    this.id = { cluster: opts.cluster, node: opts.nodeName };
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? ((m) => process.stderr.write(`kubelet[${opts.nodeName}] ${m}\n`));
    this.recorder = opts.recorder ?? new EventRecorder(this.client, 'kubelet', opts.nodeName);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.tracer = opts.tracer ?? NO_TRACE;
    const nowMs = () => this.clock.now().getTime();
    // Without --root-dir (tests), a private temporary directory, removed by stop(): a shared
    // default would let one kubelet clean up another's pod directories as orphans.
    if (!opts.rootDir) this.tempRootDir = mkdtempSync(join(tmpdir(), `mkl-kubelet-${opts.nodeName}-`));
    const rootDir = opts.rootDir ?? this.tempRootDir ?? '';
    this.images = new ImageManager(this.runtime, this.recorder, new PullBackoff(this.backoff, nowMs), nowMs, this.tracer);
    this.config = new ConfigSource(this.client, (kind, ns, name) => this.configChanged(kind, ns, name),
      (e) => this.log(`configmap/secret watch: ${(e as Error).message}`));
    this.tokens = new TokenManager(this.client, nowMs);
    this.volumes = new VolumeManager(this.runtime, this.id, {
      rootDir,
      reader: this.config,
      requestToken: (pod, source) => this.tokens.get(pod, source),
      nodeAllocatable: () => this.allocatable(),
      now: () => this.clock.now(),
    }, new ApiClaimResolver(this.client));
    this.workers = new PodWorkers({
      clock: this.clock,
      handlers: {
        syncPod: (uid) => this.syncPod(uid),
        syncTerminatingPod: (uid) => this.syncTerminatingPod(uid),
        syncTerminatedPod: (uid) => this.syncTerminatedPod(uid),
      },
      onError: (uid, state, e) => this.syncFailed(uid, state, e),
    });
    this.hostIP = opts.address ?? gatewayOf(opts.podCIDR);
    this.podFiles = new PodFiles(rootDir);
    this.dns = { clusterDNS: opts.clusterDNS ?? [], clusterDomain: opts.clusterDomain ?? 'cluster.local' };
    const runner = new ActionRunner(this.runtime, this.clock);
    this.stats = new StatsProvider({
      runtime: this.runtime, cluster: opts.cluster, nodeName: opts.nodeName, clock: this.clock,
      pods: () => this.informer?.list() ?? [], startTime: this.clock.now(),
    });
    this.probes = new ProbeManager({ runner, clock: this.clock, recorder: this.recorder, tracer: this.tracer, onChange: (uid) => this.enqueue(uid) });
    this.containers = new ContainerLifecycle({
      runtime: this.runtime, recorder: this.recorder, tracer: this.tracer, images: this.images, runner, clock: this.clock, id: this.id, hostIP: this.hostIP, log: this.log,
      startSlot: (fn) => this.workers.startSlot(fn),
      config: this.config, nodeAllocatable: () => this.allocatable(),
      serviceEnv: (pod) => serviceEnvFor(this.services?.list() ?? [], pod.metadata?.namespace ?? 'default', pod.spec?.enableServiceLinks ?? undefined),
    });
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  get networkName(): string {
    return nodeNetworkName(this.opts.cluster, this.opts.nodeName);
  }

  /** Registers the node and starts syncing its pods; resolves when the node is Ready. */
  async start(): Promise<void> {
    await this.runtime.ping();
    await this.runtime.ensureNetwork({
      name: this.networkName, subnet: this.opts.podCIDR, gateway: gatewayOf(this.opts.podCIDR),
      labels: { [LABEL_CLUSTER]: this.opts.cluster, [LABEL_NODE]: this.opts.nodeName },
    });
    if (this.opts.clusterCIDR) await this.runtime.allowPodTraffic(this.opts.clusterCIDR);
    // Everything above is this host's; from here on the API server must answer.
    if (this.opts.apiReadyTimeoutMs) await this.client.waitUntilReady(this.opts.apiReadyTimeoutMs);
    this.server = await startKubeletServer({
      host: this.hostIP, port: this.opts.serverPort ?? 0, token: this.opts.token,
      runtime: this.runtime, findPod: (ns, name) => this.informer?.get(`${ns}/${name}`), podState: (uid) => this.runtimeState(uid),
      summary: () => this.stats.summary(),
    });
    await this.registerNode();
    this.dns.host = this.readHostResolvConf();
    // Containers get service variables, so the Services must be known before any starts.
    this.services = new Informer<Service>(this.client, SERVICES, { onError: (e) => this.log(`service watch: ${(e as Error).message}`) });
    await this.services.start();
    // ConfigMaps and Secrets first: a pod's first sync must already see the objects it uses.
    await this.config.start();
    this.informer = new Informer<Pod>(this.client, PODS, {
      fieldSelector: `spec.nodeName=${this.opts.nodeName}`,
      onError: (e) => this.log(`pod watch: ${(e as Error).message}`),
    });
    this.informer.addHandlers({
      onAdd: (p) => this.track(p),
      onUpdate: (_o, p) => this.track(p),
      onDelete: (p) => this.track(p),
    });
    this.unsubscribeRuntime = this.runtime.onContainerEvent((e) => {
      if (e.labels[LABEL_CLUSTER] !== this.opts.cluster || e.labels[LABEL_NODE] !== this.opts.nodeName) return;
      const uid = e.labels[LABEL_POD_UID];
      if (uid) this.enqueue(uid);
    });
    await this.informer.start();
    await this.cleanupOrphans();
    this.timers.push(setInterval(() => void this.heartbeat(), this.opts.heartbeatMs ?? 10_000));
    this.timers.push(setInterval(() => void this.resync(), this.opts.resyncMs ?? 10_000));
    this.timers.push(setInterval(() => void this.checkRuntime(), this.opts.runtimeCheckMs ?? 2_000));
  }

  /**
   * Pings the runtime and acts on a change: down → the Node's Ready condition turns False with
   * "container runtime is down" (as the kubelet reports a runtime that fails its status check);
   * back up → Ready again, and every pod of the node is re-listed and synced at once, since the
   * engine's events of the outage are lost (a restarted dockerd keeps none). Never throws.
   */
  async checkRuntime(): Promise<void> {
    if (this.checkingRuntime) return;
    this.checkingRuntime = true;
    let down: string | undefined;
    try {
      down = await this.pingRuntime();
    } finally {
      this.checkingRuntime = false;
    }
    if (this.stopped || (down === undefined) === (this.runtimeDown === undefined)) {
      this.runtimeDown = down;
      return;
    }
    this.runtimeDown = down;
    this.transitions.set('Ready', rfc3339(this.clock.now()));
    const name = this.opts.nodeName;
    if (down !== undefined) {
      this.log(`container runtime is down: ${down}; the node is NotReady until it answers again`);
      this.recorder.event(nodeRef(name), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    } else {
      this.log('container runtime answers again: the node is Ready; re-listing its pods');
      this.recorder.event(nodeRef(name), 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
    }
    await this.heartbeat();
    if (down === undefined) await this.resync();
  }

  /** Pings the runtime within RUNTIME_PING_TIMEOUT_MS on the kubelet's clock; resolves to why it is down, or undefined. */
  private pingRuntime(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const cancel = this.clock.after(RUNTIME_PING_TIMEOUT_MS, () => resolve(`the container runtime did not answer a ping within ${RUNTIME_PING_TIMEOUT_MS / 1000} s`));
      this.runtime.ping().then(
        () => resolve(undefined),
        (e: unknown) => resolve((e as Error).message || 'the container runtime does not answer'),
      ).finally(cancel);
    });
  }

  /** Whether the runtime answered its last ping (for tests and status). */
  get runtimeReady(): boolean {
    return this.runtimeDown === undefined;
  }

  /** Containers and sandboxes the engine refused to remove so far (retried on later syncs). */
  get unremovableCount(): number {
    return this.unremovable.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.workers.stop();
    this.probes.stop();
    this.unsubscribeRuntime?.();
    this.informer?.stop();
    this.config.stop();
    this.services?.stop();
    await this.server?.close();
    if (this.tempRootDir) rmSync(this.tempRootDir, { recursive: true, force: true });
  }

  /** Resolves when no pod sync and no probe is queued or running (for tests). */
  async idle(): Promise<void> {
    do {
      await this.workers.idle();
      await this.probes.idle();
    } while (this.workers.busy || this.probes.busy);
  }

  private track(p: Pod): void {
    const uid = p.metadata?.uid ?? '';
    if (!uid) return;
    if (!this.uidToKey.has(uid)) traceKubeletSaw(this.tracer, p);
    this.uidToKey.set(uid, `${p.metadata?.namespace}/${p.metadata?.name}`);
    this.enqueue(uid);
  }

  /**
   * Hands an update of the pod to its worker: `terminate` when the pod is gone from the API,
   * being deleted, or finished (Succeeded/Failed), else `sync`. Cheap; any event may call it.
   */
  private enqueue(uid: string): void {
    const pod = this.podByUid(uid);
    const phase = pod?.status?.phase;
    const done = !pod || pod.metadata?.deletionTimestamp !== undefined || phase === 'Succeeded' || phase === 'Failed';
    this.workers.update(uid, done ? 'terminate' : 'sync');
  }

  /** The lifecycle state of a pod's worker on this node (for tests). */
  podLifecycle(uid: string): ReturnType<PodWorkers['state']> {
    return this.workers.state(uid);
  }

  /**
   * A ConfigMap or Secret was added, changed or deleted: sync every pod of this node that uses
   * it (a waiting container may start; mounted files are rewritten in place).
   */
  private configChanged(kind: 'configMap' | 'secret', namespace: string, name: string): void {
    for (const pod of this.informer?.list() ?? []) {
      if (pod.metadata?.namespace !== namespace) continue;
      const refs = referencedObjects(pod);
      if ((kind === 'configMap' ? refs.configMaps : refs.secrets).has(name)) this.track(pod);
    }
  }

  private podByUid(uid: string): Pod | undefined {
    const key = this.uidToKey.get(uid);
    const pod = key ? this.informer?.get(key) : undefined;
    return pod?.metadata?.uid === uid ? pod : undefined;
  }

  private async runtimeState(uid: string): Promise<PodRuntimeState> {
    const filter = { [LABEL_CLUSTER]: this.opts.cluster, [LABEL_POD_UID]: uid };
    const [sandboxes, containers] = await Promise.all([this.runtime.listPodSandboxes(filter), this.runtime.listContainers(filter)]);
    return { sandboxes, containers };
  }

  private syncFailed(uid: string, state: string, e: unknown): void {
    // While the runtime is down every sync fails the same way; the node condition says it once.
    if (this.stopped || this.runtimeDown !== undefined) return;
    this.log(`sync (${state}) of pod ${this.uidToKey.get(uid) ?? uid} failed: ${(e as Error).message}`);
  }

  /**
   * Drives one pod towards its spec. Called only by the pod's worker (never concurrently for one
   * pod); re-reads the pod and the runtime each time, so it is idempotent. Order, as Kubernetes'
   * `SyncPod`: kill what must go (a dead sandbox's pod, containers that failed liveness or
   * startup probes), set up volumes, create the sandbox, start the next init container or the
   * app containers, then hand the running containers to the prober and report status.
   */
  private async syncPod(uid: string): Promise<void> {
    if (this.stopped) return;
    const pod = this.podByUid(uid);
    const phase = pod?.status?.phase;
    if (!pod || pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') {
      // Changed since the update was queued: the worker moves on to terminating.
      this.workers.update(uid, 'terminate');
      return;
    }
    let state = await this.runtimeState(uid);
    const waiting = this.workers.waiting(uid);
    const actions = computePodActions(pod, state, this.clock.now().getTime(), this.backoff, this.probes.failures(uid), this.probes.startupPassed(uid));
    let retryIn = Infinity;
    if (actions.duplicates.containers.length || actions.duplicates.sandboxes.length) await this.killDuplicates(pod, actions.duplicates);
    if (actions.killPod) {
      if (state.sandboxes.length) this.recorder.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.stopPodResources(state);
    }
    const podIP = currentSandbox(state)?.ip ?? '';
    await Promise.all(actions.containersToKill.map(async (k) => {
      const c = state.containers.find((x) => x.id === k.id);
      if (c) await this.containers.kill(pod, c, k.message, gracePeriodFor(pod, k.name, k.cause), podIP);
    }));
    let sandbox: Pick<SandboxStatus, 'id' | 'ip'> | undefined = actions.sandboxId ? { id: actions.sandboxId, ip: podIP } : undefined;
    let prepared;
    try {
      prepared = await this.volumes.setUp(pod);
      for (const name of Object.keys(waiting)) if (waiting[name].reason === 'ContainerCreating') delete waiting[name];
    } catch (e) {
      if (!(e instanceof MountError)) throw e;
      this.recorder.event(pod, 'Warning', 'FailedMount', e.message);
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) waiting[c.name] = { reason: 'ContainerCreating' };
      retryIn = 10_000;
    }
    if (prepared && actions.createSandbox) {
      try {
        sandbox = await this.createSandbox(pod, actions.sandboxAttempt);
      } catch (e) {
        this.recorder.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
        sandbox = undefined;
        retryIn = Math.min(retryIn, 5000);
      }
    }
    if (prepared && sandbox) {
      await this.removeStopped(pod, actions.containersToRemove.map((id) => ({ id, sandbox: false })));
      await this.removeStopped(pod, actions.sandboxesToRemove.map((id) => ({ id, sandbox: true })));
      const files = actions.containersToStart.length ? this.writePodFiles(pod, sandbox.ip, actions.createSandbox) : undefined;
      for (const start of actions.containersToStart) {
        const c = specOf(pod, start.name);
        if (!c || !files) continue;
        let pidNamespaceOf: string | undefined;
        if (start.ephemeral) {
          const target = this.ephemeralTarget(pod, start.name, state, sandbox.id);
          if (target.error) {
            this.recorder.event(pod, 'Warning', 'Failed', `Error: ${target.error}`);
            waiting[c.name] = { reason: 'CreateContainerConfigError', message: target.error };
            retryIn = Math.min(retryIn, 10_000);
            continue;
          }
          pidNamespaceOf = target.id;
        }
        const failed = await this.containers.start(pod, c, sandbox, start.restartCount, (env) => {
          const own = this.volumes.mountsFor(c, prepared, env);
          return [...own, ...podFileMounts(files, own)];
        }, pidNamespaceOf);
        if (failed) {
          waiting[c.name] = failed.waiting;
          retryIn = Math.min(retryIn, failed.retryInMs);
        } else delete waiting[c.name];
      }
    }
    const dups = actions.duplicates.containers.length + actions.duplicates.sandboxes.length;
    if (dups || actions.killPod || actions.containersToKill.length || actions.containersToStart.length || actions.containersToRemove.length || actions.sandboxesToRemove.length) {
      state = await this.runtimeState(uid);
    }
    this.probes.syncPod(pod, this.runningContainers(pod, state));
    const after = computePodActions(pod, state, this.clock.now().getTime(), this.backoff, this.probes.failures(uid), this.probes.startupPassed(uid));
    for (const ms of Object.values(after.backoff)) retryIn = Math.min(retryIn, ms);
    await this.reportStatus(pod, state, waiting, after.backoff);
    if (retryIn !== Infinity) this.workers.wakeAfter(uid, retryIn);
  }

  /**
   * The running container whose process namespace an ephemeral container joins (its
   * `targetContainerName`), in the current sandbox; none without a target; an error worded as
   * the kubelet's when the target is not running.
   */
  private ephemeralTarget(pod: Pod, name: string, state: PodRuntimeState, sandboxId: string): { id?: string; error?: string } {
    const target = (pod.spec?.ephemeralContainers ?? []).find((e) => e.name === name)?.targetContainerName;
    if (!target) return {};
    const running = instancesOf(state, target, sandboxId).find((c) => c.state === 'running');
    return running ? { id: running.id } : { error: `unable to find target container ${target}` };
  }

  /** Stops and removes a pod's duplicate containers and sandboxes, each with a `Killing` event. */
  private async killDuplicates(pod: Pod, d: PodActions['duplicates']): Promise<void> {
    await Promise.all(d.containers.map(async (c) => {
      this.recorder.event(pod, 'Normal', 'Killing', c.message);
      if (c.running) await this.runtime.stopContainer(c.id, MIN_GRACE_SECONDS);
    }));
    await this.removeStopped(pod, d.containers.map((c) => ({ id: c.id, sandbox: false })));
    await Promise.all(d.sandboxes.map(async (s) => {
      this.recorder.event(pod, 'Normal', 'Killing', s.message);
      await this.runtime.stopPodSandbox(s.id);
    }));
    await this.removeStopped(pod, d.sandboxes.map((s) => ({ id: s.id, sandbox: true })));
    this.log(`pod ${podKey(pod)}: removed ${d.containers.length} duplicate container(s) and ${d.sandboxes.length} duplicate sandbox(es)`);
  }

  /** The sidecars and app containers running in the pod's current sandbox, for the prober. */
  private runningContainers(pod: Pod, state: PodRuntimeState): ProbedContainer[] {
    const sandbox = currentSandbox(state);
    if (!sandbox || sandbox.state !== 'ready') return [];
    return [...sidecarsOf(pod), ...(pod.spec?.containers ?? [])].flatMap((c) => {
      const last = instancesOf(state, c.name, sandbox.id)[0];
      return last?.state === 'running'
        ? [{ name: c.name, id: last.id, sandboxId: sandbox.id, podIP: sandbox.ip, startedAt: last.startedAt ?? this.clock.now() }]
        : [];
    });
  }

  private async createSandbox(pod: Pod, attempt: number): Promise<SandboxStatus> {
    const image = this.opts.pauseImage ?? DEFAULT_PAUSE_IMAGE;
    if (!(await this.runtime.imageStatus(image))) await this.runtime.pullImage(image);
    const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).filter((p) => p.hostPort);
    const t0 = performance.now();
    const sandbox = await this.workers.startSlot(() => this.runtime.runPodSandbox({
      name: sandboxName(pod, attempt),
      hostname: this.sandboxHostname(pod),
      network: this.networkName,
      image,
      labels: { ...podLabels(this.id, pod), [LABEL_SANDBOX_ATTEMPT]: String(attempt) },
      portMappings: ports.map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort ?? 0, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP', hostIP: p.hostIP })),
    }));
    traceSandbox(this.tracer, pod, sandbox, image, t0);
    return sandbox;
  }

  /** The sandbox's hostname (the FQDN with setHostnameAsFQDN); an impossible one fails the sandbox. */
  private sandboxHostname(pod: Pod): string {
    const h = podHostname(pod, this.dns.clusterDomain);
    if (h.error) throw new Error(h.error);
    return h.hostname;
  }

  /** The host resolver Default pods inherit (`--resolv-conf`); undefined for `--resolv-conf ""`. */
  private readHostResolvConf(): KubeletDnsSettings['host'] {
    const path = this.opts.resolvConf ?? '/etc/resolv.conf';
    if (path === '') return undefined;
    try {
      return hostResolvConf(readFileSync(path, 'utf8'));
    } catch (e) {
      this.log(`could not read resolv.conf ${path}: ${(e as Error).message}; Default pods get no nameserver`);
      return { servers: [], searches: [], options: [] };
    }
  }

  /**
   * Writes the pod's /etc/hosts and /etc/resolv.conf (shared by its containers through bind
   * mounts). The DNS events (limits exceeded, no cluster DNS) are recorded with a new sandbox,
   * as the kubelet forms the DNS config when it creates one.
   */
  private writePodFiles(pod: Pod, podIP: string, newSandbox: boolean): { hosts: string; resolvConf: string } {
    const { conf, events } = podResolvConf(pod, this.dns);
    if (newSandbox) for (const e of events) this.recorder.event(pod, e.type, e.reason, e.message);
    const nodeHosts = pod.spec?.hostNetwork && existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : undefined;
    const hosts = podHostsFile(pod, podIP ? [podIP] : [], this.dns.clusterDomain, nodeHosts);
    return this.podFiles.write(pod.metadata?.uid ?? '', hosts, formatResolvConf(conf));
  }

  private async reportStatus(pod: Pod, state: PodRuntimeState, waiting: Record<string, Waiting>, backoff: Record<string, number>): Promise<void> {
    const status = computePodStatus({
      pod, state, waiting, backoff, hostIP: this.hostIP, now: this.clock.now(), probes: this.probes.results(pod.metadata?.uid ?? ''),
    });
    if (jsonEqual(status, pod.status)) return;
    try {
      await this.client.patch(PODS_IN(pod), pod.metadata?.name ?? '', { status }, 'status');
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
  }

  /**
   * The terminating state's work: every running container of the pod gets its preStop hook and
   * the stop signal within the grace period (in parallel: Kubernetes' `killContainersWithSyncResult`).
   * A pod already gone from the API (force-deleted) is stopped at once. Holds only this pod's worker.
   */
  private async syncTerminatingPod(uid: string): Promise<void> {
    this.probes.removePod(uid);
    const pod = this.podByUid(uid);
    const state = await this.runtimeState(uid);
    const running = state.containers.filter((c) => c.state === 'running');
    if (!pod) {
      await Promise.all(running.map((c) => this.runtime.stopContainer(c.id, 0)));
      return;
    }
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const deadline = this.clock.now().getTime() + grace * 1000;
    const podIP = currentSandbox(state)?.ip ?? '';
    // App containers first (in parallel), then the sidecars one at a time in reverse spec order,
    // with what is left of the grace period (Kubernetes 1.29+).
    const sidecarNames = new Set(sidecarsOf(pod).map((c) => c.name));
    const kill = (c: (typeof running)[number], seconds: number) =>
      this.containers.kill(pod, c, `Stopping container ${c.labels[LABEL_CONTAINER_NAME]}`, seconds, podIP);
    await Promise.all(running.filter((c) => !sidecarNames.has(c.labels[LABEL_CONTAINER_NAME] ?? '')).map((c) => kill(c, grace)));
    for (const spec of sidecarsOf(pod).reverse()) {
      const left = Math.max(0, Math.ceil((deadline - this.clock.now().getTime()) / 1000));
      await Promise.all(running.filter((c) => c.labels[LABEL_CONTAINER_NAME] === spec.name).map((c) => kill(c, left)));
    }
  }

  /**
   * The terminated state's work, run again on every later update. A finished pod that is not
   * deleted keeps its containers (for logs and status) and gives its sandbox back. A deleted or
   * vanished pod loses everything: containers, sandboxes, emptyDir volumes, then its API object
   * (grace 0, as the kubelet confirms a deletion). True once the pod is gone from the API too.
   */
  private async syncTerminatedPod(uid: string): Promise<boolean> {
    const pod = this.podByUid(uid);
    const state = await this.runtimeState(uid);
    if (pod && !pod.metadata?.deletionTimestamp) {
      await Promise.all(state.sandboxes.filter((s) => s.state === 'ready').map((s) => this.runtime.stopPodSandbox(s.id)));
      return false;
    }
    // Removal is forced (it kills what still runs). Containers first: they join the sandbox's namespaces.
    const left = await this.removeStopped(pod, state.containers.map((c) => ({ id: c.id, sandbox: false })))
      + await this.removeStopped(pod, state.sandboxes.map((s) => ({ id: s.id, sandbox: true })));
    // What the engine cannot remove yet does not hold the pod's deletion (Kubernetes deletes a pod
    // once nothing of it runs): the orphan cleanup of every resync retries it.
    if (left && !pod) this.log(`pod ${uid}: ${left} stopped container(s) the engine cannot remove yet; retried on the next resync`);
    await this.volumes.tearDown(uid);
    this.tokens.forget(uid);
    this.podFiles.remove(uid);
    if (!pod) {
      this.uidToKey.delete(uid);
      return true;
    }
    try {
      await this.client.delete(PODS_IN(pod), pod.metadata?.name ?? '', { gracePeriodSeconds: 0 });
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
    return false; // the watch's DELETED event brings the last update
  }

  /** Stops at once every running container and ready sandbox in `state` (graceful stops come first, from the caller); removes nothing. */
  private async stopPodResources(state: PodRuntimeState): Promise<void> {
    await Promise.all(state.containers.filter((c) => c.state === 'running').map((c) => this.runtime.stopContainer(c.id, 0)));
    await Promise.all(state.sandboxes.filter((s) => s.state === 'ready').map((s) => this.runtime.stopPodSandbox(s.id)));
  }

  /**
   * Removes stopped containers or sandboxes (the kubelet's container GC). A removal the engine
   * refuses — typically a dead container whose root filesystem is still mounted, which Docker
   * shows as "Removal In Progress" — never fails the sync: it is counted, reported once per object
   * (a `ContainerGCFailed` warning event on the pod, a log line), and tried again by later syncs
   * and resyncs. Resolves to how many are left.
   */
  private async removeStopped(pod: Pod | undefined, objects: { id: string; sandbox: boolean }[]): Promise<number> {
    const results = await Promise.all(objects.map(async (o) => {
      try {
        await (o.sandbox ? this.runtime.removePodSandbox(o.id) : this.runtime.removeContainer(o.id));
        this.unremovable.delete(o.id);
        return 0;
      } catch (e) {
        const msg = (e as Error).message;
        if (!this.unremovable.has(o.id)) {
          const what = `${o.sandbox ? 'pod sandbox' : 'container'} ${o.id.slice(0, 12)}`;
          this.log(`could not remove ${what}${pod ? ` of pod ${podKey(pod)}` : ''}: ${msg} (${this.unremovable.size + 1} left that the engine cannot remove; retried later)`);
          if (pod) this.recorder.event(pod, 'Warning', 'ContainerGCFailed', `Failed to remove ${what}: ${msg}; it is retried later`);
        }
        this.unremovable.set(o.id, msg);
        return 1;
      }
    }));
    return results.reduce((a: number, b: number) => a + b, 0);
  }

  /** Removes runtime objects of pods this node no longer has (after a restart or a force delete). */
  private async cleanupOrphans(): Promise<void> {
    const filter = { [LABEL_CLUSTER]: this.opts.cluster, [LABEL_NODE]: this.opts.nodeName };
    const [sandboxes, containers] = await Promise.all([this.runtime.listPodSandboxes(filter), this.runtime.listContainers(filter)]);
    const uids = new Set([...sandboxes, ...containers].map((o) => o.labels[LABEL_POD_UID]).filter(Boolean));
    // Volume directories of pods that are gone (deleted while this kubelet was down).
    for (const uid of this.volumes.podDirs()) uids.add(uid);
    for (const uid of uids) if (!this.podByUid(uid)) this.enqueue(uid);
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    for (const p of this.informer?.list() ?? []) this.track(p);
    await this.cleanupOrphans().catch((e: unknown) => this.log(`orphan cleanup: ${(e as Error).message}`));
  }

  private nodeConditions(): NodeCondition[] {
    const now = rfc3339(this.clock.now());
    const cond = (type: string, status: string, reason: string, message: string): NodeCondition =>
      ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: this.transitions.get(type) ?? now });
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']) if (!this.transitions.has(t)) this.transitions.set(t, now);
    return [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      this.runtimeDown === undefined
        ? cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
        : cond('Ready', 'False', 'KubeletNotReady', `container runtime is down: ${this.runtimeDown}`),
    ];
  }
  private readonly transitions = new Map<string, string>();

  /** The node's capacity, reported as allocatable too (nothing is reserved for the system). */
  private allocatable(): Record<string, string> {
    return {
      cpu: this.opts.capacity?.cpu ?? String(cpus().length),
      memory: this.opts.capacity?.memory ?? `${Math.floor(totalmem() / 1024)}Ki`,
      pods: this.opts.capacity?.pods ?? '110',
      'ephemeral-storage': '100Gi',
    };
  }

  private async nodeStatus(): Promise<Node['status']> {
    const cap = this.allocatable();
    return {
      capacity: cap,
      allocatable: cap,
      conditions: this.nodeConditions(),
      addresses: [{ type: 'InternalIP', address: this.hostIP }, { type: 'Hostname', address: this.opts.nodeName }],
      daemonEndpoints: { kubeletEndpoint: { Port: this.server?.port ?? 0 } },
      nodeInfo: {
        machineID: '', systemUUID: '', bootID: '', kernelVersion: release(), osImage: 'minikube-lite (Docker)',
        containerRuntimeVersion: (await this.runtime.version().catch(() => 'docker unknown')).replace(/^(\w+) /, '$1://'),
        kubeletVersion: KUBELET_VERSION, kubeProxyVersion: '', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    };
  }

  private async registerNode(): Promise<void> {
    const name = this.opts.nodeName;
    const labels = {
      'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
      ...(this.opts.nodeLabels ?? {}),
    };
    const status = await this.nodeStatus();
    try {
      const existing = await this.client.get<Node>(NODES, name);
      const updated: Node = { ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata?.labels, ...labels } }, spec: { ...existing.spec, podCIDR: this.opts.podCIDR, podCIDRs: [this.opts.podCIDR] } };
      this.nodeUid = (await this.client.update<Node>(NODES, updated)).metadata?.uid;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
      const created = await this.client.create<Node>(NODES, {
        apiVersion: 'v1', kind: 'Node', metadata: { name, labels },
        spec: { podCIDR: this.opts.podCIDR, podCIDRs: [this.opts.podCIDR], ...(this.opts.nodeTaints?.length ? { taints: this.opts.nodeTaints } : {}) },
      });
      this.nodeUid = created.metadata?.uid;
    }
    await this.client.patch(NODES, name, { status }, 'status');
    await this.renewLease();
    this.recorder.event(nodeRef(name), 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.client.patch(NODES, this.opts.nodeName, { status: { conditions: this.nodeConditions() } }, 'status');
    } catch (e) {
      this.log(`heartbeat: ${(e as Error).message}`);
    }
    await this.renewLease();
  }

  /** Renews the node's Lease in kube-node-lease (failures are logged; the next beat retries). */
  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    try {
      await renewNodeLease(this.client, { name: this.opts.nodeName, uid: this.nodeUid }, this.clock.now());
    } catch (e) {
      this.log(`node lease: ${(e as Error).message}`);
    }
  }

  /** Pods' current state on this node, for tests and status output. */
  podState(uid: string): Promise<PodRuntimeState> {
    return this.runtimeState(uid);
  }

  /** For the server: the newest instance of a container of a pod. */
  static latest(state: PodRuntimeState, container: string) {
    const sb = currentSandbox(state);
    return instancesOf(state, container).find((c) => !sb || c.sandboxId === sb.id) ?? instancesOf(state, container)[0];
  }
}

const podKey = (pod: Pod) => `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
const PODS_IN = (pod: Pod) => ({ ...PODS, namespace: pod.metadata?.namespace ?? 'default' });
/** Events about the node are recorded against a Pod-shaped reference (kind Node). */
const nodeRef = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name } });
