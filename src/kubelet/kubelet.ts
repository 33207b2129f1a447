/**
 * The kubelet of one node. It registers the Node (its Docker network is the node's pod subnet),
 * keeps its heartbeat, watches the pods bound to the node, and drives each pod towards its spec
 * through the runtime, one serialized worker per pod, reporting status and events back to the
 * API server. It talks to the control plane only through the API client.
 */
import { cpus, totalmem, release } from 'node:os';
import type { Container, KubeObject, Node, NodeCondition, Pod } from '../api/types.js';
import { LABEL_CLUSTER, LABEL_NODE } from '../api/types.js';
import { ApiError } from '../api/errors.js';
import { containerEnv, expandCommand } from '../api/expansion.js';
import { cpuToMillis, memoryToBytes } from '../api/quantity.js';
import { ApiClient, NODES, PODS } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import type { ContainerConfig, Runtime } from '../runtime/types.js';
import { DEFAULT_BACKOFF, PullBackoff, type BackoffPolicy } from './backoff.js';
import { ImageManager, type Recorder } from './images.js';
import {
  containerName, LABEL_CONTAINER_NAME, LABEL_GRACE, LABEL_POD_UID, LABEL_RESTART_COUNT, LABEL_SANDBOX_ATTEMPT,
  LABEL_SANDBOX_ID, nodeNetworkName, podLabels, sandboxName, type NodeIdentity,
} from './naming.js';
import { computePodActions, currentSandbox, instancesOf, type PodRuntimeState } from './plan.js';
import { PodWorkers } from './podworkers.js';
import { computePodStatus, rfc3339, type Waiting } from './status.js';
import { MountError, VolumeManager } from './volumes.js';
import { startKubeletServer, type KubeletServer } from './server.js';

export const DEFAULT_PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const KUBELET_VERSION = 'v1.32.0-minikube-lite';

export interface KubeletOptions {
  client: ApiClient;
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
  capacity?: { cpu?: string; memory?: string; pods?: string };
  pauseImage?: string;
  /** Port of the kubelet's server (0 = any free port). */
  serverPort?: number;
  /**
   * Address the kubelet's server binds to and reports as the node's InternalIP; defaults to the
   * node network's gateway (the node's own address on its pod subnet).
   */
  address?: string;
  clock?: () => Date;
  heartbeatMs?: number;
  resyncMs?: number;
  backoff?: BackoffPolicy;
  log?: (msg: string) => void;
  recorder?: Recorder;
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
  private readonly runtime: Runtime;
  private readonly id: NodeIdentity;
  private readonly now: () => Date;
  private readonly log: (msg: string) => void;
  private readonly recorder: Recorder;
  private readonly images: ImageManager;
  private readonly volumes: VolumeManager;
  private readonly workers: PodWorkers;
  private readonly backoff: BackoffPolicy;
  private readonly hostIP: string;
  private informer?: Informer<Pod>;
  private readonly uidToKey = new Map<string, string>();
  /** Reasons a container waits that only the kubelet knows (image/mount errors), by pod uid. */
  private readonly waiting = new Map<string, Record<string, Waiting>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly wakeups = new Map<string, NodeJS.Timeout>();
  private unsubscribeRuntime?: () => void;
  private server?: KubeletServer;
  private stopped = false;

  constructor(private readonly opts: KubeletOptions) {
    this.client = opts.client;
    this.runtime = opts.runtime;
    this.id = { cluster: opts.cluster, node: opts.nodeName };
    this.now = opts.clock ?? (() => new Date());
    this.log = opts.log ?? ((m) => process.stderr.write(`kubelet[${opts.nodeName}] ${m}\n`));
    this.recorder = opts.recorder ?? new EventRecorder(this.client, 'kubelet', opts.nodeName);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.images = new ImageManager(this.runtime, this.recorder, new PullBackoff(this.backoff, () => this.now().getTime()), () => this.now().getTime());
    this.volumes = new VolumeManager(this.runtime, this.id);
    this.workers = new PodWorkers((uid) => this.syncPod(uid), (uid, e) => this.syncFailed(uid, e));
    this.hostIP = opts.address ?? gatewayOf(opts.podCIDR);
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
    this.server = await startKubeletServer({
      host: this.hostIP, port: this.opts.serverPort ?? 0, token: this.opts.token,
      runtime: this.runtime, findPod: (ns, name) => this.informer?.get(`${ns}/${name}`), podState: (uid) => this.runtimeState(uid),
    });
    await this.registerNode();
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
      if (uid) this.workers.enqueue(uid);
    });
    await this.informer.start();
    await this.cleanupOrphans();
    this.timers.push(setInterval(() => void this.heartbeat(), this.opts.heartbeatMs ?? 10_000));
    this.timers.push(setInterval(() => void this.resync(), this.opts.resyncMs ?? 10_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.wakeups.forEach(clearTimeout);
    this.unsubscribeRuntime?.();
    this.informer?.stop();
    await this.server?.close();
  }

  /** Resolves when no pod sync is queued or running (for tests). */
  idle(): Promise<void> {
    return this.workers.idle();
  }

  private track(p: Pod): void {
    const uid = p.metadata?.uid ?? '';
    if (!uid) return;
    this.uidToKey.set(uid, `${p.metadata?.namespace}/${p.metadata?.name}`);
    this.workers.enqueue(uid);
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

  private syncFailed(uid: string, e: unknown): void {
    if (this.stopped) return;
    this.log(`sync of pod ${this.uidToKey.get(uid) ?? uid} failed: ${(e as Error).message}`);
    this.wakeAfter(uid, 2000);
  }

  private wakeAfter(uid: string, ms: number): void {
    if (this.stopped || this.wakeups.has(uid)) return;
    const t = setTimeout(() => {
      this.wakeups.delete(uid);
      this.workers.enqueue(uid);
    }, Math.max(10, ms));
    this.wakeups.set(uid, t);
  }

  /**
   * Drives one pod towards its spec. Called only by the pod's worker (never concurrently for one
   * pod); re-reads the pod and the runtime each time, so it is idempotent.
   */
  private async syncPod(uid: string): Promise<void> {
    if (this.stopped) return;
    const pod = this.podByUid(uid);
    let state = await this.runtimeState(uid);
    if (!pod) {
      await this.killPodResources(state, 0);
      await this.volumes.tearDown(uid);
      this.waiting.delete(uid);
      this.uidToKey.delete(uid);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.terminatePod(pod, state);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // A finished pod keeps its containers (for logs) but gives its sandbox back.
      await Promise.all(state.sandboxes.filter((s) => s.state === 'ready').map((s) => this.runtime.stopPodSandbox(s.id)));
      return;
    }
    const waiting = this.waiting.get(uid) ?? {};
    const now = this.now().getTime();
    const actions = computePodActions(pod, state, now, this.backoff);
    let retryIn = Infinity;
    if (actions.killPod) await this.killPodResources(state, 0);
    let sandboxId = actions.sandboxId;
    let prepared;
    try {
      prepared = await this.volumes.setUp(pod);
      for (const name of Object.keys(waiting)) if (waiting[name].reason === 'ContainerCreating') delete waiting[name];
    } catch (e) {
      if (!(e instanceof MountError)) throw e;
      this.recorder.event(pod, 'Warning', 'FailedMount', e.message);
      for (const c of pod.spec?.containers ?? []) waiting[c.name] = { reason: 'ContainerCreating' };
      this.waiting.set(uid, waiting);
      retryIn = 10_000;
    }
    if (prepared && actions.createSandbox) {
      try {
        sandboxId = await this.createSandbox(pod, actions.sandboxAttempt);
      } catch (e) {
        this.recorder.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
        sandboxId = undefined;
        retryIn = Math.min(retryIn, 5000);
      }
    }
    if (prepared && sandboxId) {
      await Promise.all(actions.containersToRemove.map((id) => this.runtime.removeContainer(id)));
      const byName = new Map((pod.spec?.containers ?? []).map((c) => [c.name, c]));
      for (const start of actions.containersToStart) {
        const c = byName.get(start.name);
        if (!c) continue;
        const res = await this.startContainer(pod, c, sandboxId, start.restartCount, this.volumes.mountsFor(c, prepared));
        if (res) {
          waiting[c.name] = res.waiting;
          retryIn = Math.min(retryIn, res.retryInMs);
        } else delete waiting[c.name];
      }
      this.waiting.set(uid, waiting);
      state = await this.runtimeState(uid);
    }
    const after = computePodActions(pod, state, this.now().getTime(), this.backoff);
    for (const ms of Object.values(after.backoff)) retryIn = Math.min(retryIn, ms);
    await this.reportStatus(pod, state, waiting, after.backoff);
    if (retryIn !== Infinity) this.wakeAfter(uid, retryIn);
  }

  private async createSandbox(pod: Pod, attempt: number): Promise<string> {
    const image = this.opts.pauseImage ?? DEFAULT_PAUSE_IMAGE;
    if (!(await this.runtime.imageStatus(image))) await this.runtime.pullImage(image);
    const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).filter((p) => p.hostPort);
    const sandbox = await this.runtime.runPodSandbox({
      name: sandboxName(pod, attempt),
      hostname: pod.spec?.hostname ?? pod.metadata?.name ?? '',
      network: this.networkName,
      image,
      labels: { ...podLabels(this.id, pod), [LABEL_SANDBOX_ATTEMPT]: String(attempt) },
      portMappings: ports.map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort ?? 0, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP', hostIP: p.hostIP })),
    });
    return sandbox.id;
  }

  /** Pulls, creates and starts one container; returns why it waits when it could not start. */
  private async startContainer(pod: Pod, c: Container, sandboxId: string, restartCount: number, mounts: ContainerConfig['mounts']):
    Promise<{ waiting: Waiting; retryInMs: number } | undefined> {
    const pulled = await this.images.ensure(pod, c);
    if (!pulled.ok) return { waiting: pulled.waiting, retryInMs: pulled.retryInMs };
    const env = containerEnv(c, {
      podName: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', uid: pod.metadata?.uid ?? '',
      nodeName: this.opts.nodeName, podIP: '', hostIP: this.hostIP, labels: pod.metadata?.labels ?? {}, annotations: pod.metadata?.annotations ?? {},
      serviceAccountName: pod.spec?.serviceAccountName ?? 'default',
    });
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    const config: ContainerConfig = {
      name: containerName(pod, c.name, restartCount),
      image: c.image ?? '',
      ...(c.command ? { entrypoint: expandCommand(c.command, env) } : {}),
      ...(c.args ? { cmd: expandCommand(c.args, env) } : {}),
      env,
      workingDir: c.workingDir,
      mounts,
      labels: {
        ...podLabels(this.id, pod), [LABEL_CONTAINER_NAME]: c.name, [LABEL_RESTART_COUNT]: String(restartCount),
        [LABEL_SANDBOX_ID]: sandboxId, [LABEL_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      },
      nanoCpus: limits.cpu ? Math.round(cpuToMillis(String(limits.cpu)) * 1e6) : 0,
      cpuShares: requests.cpu ? Math.max(2, Math.round((cpuToMillis(String(requests.cpu)) * 1024) / 1000)) : 0,
      memoryBytes: limits.memory ? Math.round(memoryToBytes(String(limits.memory))) : 0,
      tty: c.tty === true,
      stdin: c.stdin === true,
    };
    let id: string;
    try {
      id = await this.runtime.createContainer(sandboxId, config);
    } catch (e) {
      const message = (e as Error).message;
      this.recorder.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      return { waiting: { reason: 'CreateContainerError', message }, retryInMs: 10_000 };
    }
    this.recorder.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await this.runtime.startContainer(id);
    } catch (e) {
      const message = (e as Error).message;
      this.recorder.event(pod, 'Warning', 'Failed', `Error: failed to start container "${c.name}": ${message}`);
      return { waiting: { reason: 'RunContainerError', message }, retryInMs: 10_000 };
    }
    this.recorder.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    return undefined;
  }

  private async reportStatus(pod: Pod, state: PodRuntimeState, waiting: Record<string, Waiting>, backoff: Record<string, number>): Promise<void> {
    const status = computePodStatus({ pod, state, waiting, backoff, hostIP: this.hostIP, now: this.now() });
    if (JSON.stringify(status) === JSON.stringify(pod.status)) return;
    try {
      await this.client.patch(PODS_IN(pod), pod.metadata?.name ?? '', { status }, 'status');
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
  }

  /** Graceful stop of a pod being deleted, then removal of the API object (grace 0). */
  private async terminatePod(pod: Pod, state: PodRuntimeState): Promise<void> {
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const running = state.containers.filter((c) => c.state === 'running');
    for (const c of running) this.recorder.event(pod, 'Normal', 'Killing', `Stopping container ${c.labels[LABEL_CONTAINER_NAME]}`);
    await this.killPodResources(state, grace);
    await this.volumes.tearDown(pod.metadata?.uid ?? '');
    this.waiting.delete(pod.metadata?.uid ?? '');
    try {
      await this.client.delete(PODS_IN(pod), pod.metadata?.name ?? '', { gracePeriodSeconds: 0 });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }

  /** Stops (with the grace period) and removes every container and sandbox in `state`. */
  private async killPodResources(state: PodRuntimeState, graceSeconds: number): Promise<void> {
    await Promise.all(state.containers.map(async (c) => {
      if (c.state === 'running') await this.runtime.stopContainer(c.id, graceSeconds);
      await this.runtime.removeContainer(c.id);
    }));
    await Promise.all(state.sandboxes.map(async (s) => {
      await this.runtime.stopPodSandbox(s.id);
      await this.runtime.removePodSandbox(s.id);
    }));
  }

  /** Removes runtime objects of pods this node no longer has (after a restart or a force delete). */
  private async cleanupOrphans(): Promise<void> {
    const filter = { [LABEL_CLUSTER]: this.opts.cluster, [LABEL_NODE]: this.opts.nodeName };
    const [sandboxes, containers] = await Promise.all([this.runtime.listPodSandboxes(filter), this.runtime.listContainers(filter)]);
    const uids = new Set([...sandboxes, ...containers].map((o) => o.labels[LABEL_POD_UID]).filter(Boolean));
    for (const uid of uids) if (!this.podByUid(uid)) this.workers.enqueue(uid);
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    for (const p of this.informer?.list() ?? []) this.track(p);
    await this.cleanupOrphans().catch((e: unknown) => this.log(`orphan cleanup: ${(e as Error).message}`));
  }

  private nodeConditions(): NodeCondition[] {
    const now = rfc3339(this.now());
    const cond = (type: string, status: string, reason: string, message: string): NodeCondition =>
      ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: this.transitions.get(type) ?? now });
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']) if (!this.transitions.has(t)) this.transitions.set(t, now);
    return [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ];
  }
  private readonly transitions = new Map<string, string>();

  private async nodeStatus(): Promise<Node['status']> {
    const cap = {
      cpu: this.opts.capacity?.cpu ?? String(cpus().length),
      memory: this.opts.capacity?.memory ?? `${Math.floor(totalmem() / 1024)}Ki`,
      pods: this.opts.capacity?.pods ?? '110',
      'ephemeral-storage': '100Gi',
    };
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
      await this.client.update(NODES, updated);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
      await this.client.create<Node>(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { podCIDR: this.opts.podCIDR, podCIDRs: [this.opts.podCIDR] } });
    }
    await this.client.patch(NODES, name, { status }, 'status');
    this.recorder.event(nodeRef(name), 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.client.patch(NODES, this.opts.nodeName, { status: { conditions: this.nodeConditions() } }, 'status');
    } catch (e) {
      this.log(`heartbeat: ${(e as Error).message}`);
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

const PODS_IN = (pod: Pod) => ({ ...PODS, namespace: pod.metadata?.namespace ?? 'default' });
/** Events about the node are recorded against a Pod-shaped reference (kind Node). */
const nodeRef = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name } });
