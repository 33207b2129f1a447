/**
 * The Docker implementation of the container runtime interface — the only file in
 * minikube-lite that imports dockerode. A pod is a "pause" sandbox container on the node's
 * bridge network; app containers join its network and IPC namespaces (`container:<id>`), the
 * same layout dockershim used.
 *
 * Errors are `RuntimeError`s carrying the engine's own message (without dockerode's
 * `(HTTP code …)` prefix); 404s set `notFound`. Every method may be called concurrently.
 */
import { mkdir } from 'node:fs/promises';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import { commandOverrides } from './command.js';
import { ContainerEventHub, type ContainerEventHandler } from './events.js';
import { PodTrafficRules, type CommandRunner } from './iptables.js';
import { httpGetFromNode, openTcpFromNode, tcpConnectFromNode } from './podnet.js';
import { CLUSTER_LABEL, SANDBOX_ID_LABEL, SANDBOX_LABEL } from './labels.js';
import { familiarImageReference, normalizeImageReference } from './reference.js';
import { SingleFlight } from './singleflight.js';
import { OomTracker, hostOomKills } from './oom.js';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerState,
  type ContainerStatus,
  type ExecOptions,
  type ExecResult,
  type ImageStatus,
  type ContainerStats,
  type LabelFilter,
  type LogOptions,
  type NetworkSpec,
  type PodHttpGet,
  type PodHttpResponse,
  type PodNetworkOptions,
  type Runtime,
  type SandboxConfig,
  type SandboxStatus,
  type StreamIO,
  type StreamSession,
  type VolumeOptions,
} from './types.js';

/**
 * Sets a terminal size, retrying for a short while: the engine refuses to resize an exec whose
 * process has not started yet, and the first size arrives right after the start.
 */
function resizeSoon(resize: () => Promise<unknown>, attempts = 20): void {
  resize().catch(() => {
    if (attempts > 1) setTimeout(() => resizeSoon(resize, attempts - 1), 25);
  });
}

export interface DockerRuntimeOptions {
  /** Engine socket; default `/var/run/docker.sock`. */
  socketPath?: string;
  /**
   * Cluster name. When set, everything this runtime creates gets the label
   * `minikube-lite.cluster=<clusterLabel>` and every list is scoped to it, so several
   * clusters (or test runs) can share one engine without seeing each other's objects.
   */
  clusterLabel?: string;
  /**
   * Runs host programs (iptables) for `allowPodTraffic`; default `child_process.execFile`.
   * The rules are tagged with `clusterLabel`, so each cluster adds and removes only its own.
   */
  commandRunner?: CommandRunner;
  /** iptables binary; default `iptables` from PATH. */
  iptablesPath?: string;
  /** Reconnect backoff of the event stream. */
  eventsBackoff?: { initialMs: number; maxMs: number };
  /** The host's OOM-kill count (default: /proc/vmstat's `oom_kill`); see OomTracker. */
  oomKillCounter?: () => number | undefined;
  /** Grace period given to the pause container by `stopPodSandbox`. */
  sandboxStopTimeoutSeconds?: number;
  /**
   * How long a short engine call (list, inspect, create, start, remove, ping…) may take before it
   * fails with "the Docker engine did not answer …" (default 60 s; `ping` gets a sixth of it).
   * Stops get their grace period on top. Pulls, logs, exec and attach streams have no limit.
   */
  callTimeoutMs?: number;
}

/** The shape of errors produced by docker-modem (plus Node's socket errors). */
interface EngineError {
  message?: string;
  statusCode?: number;
  json?: unknown;
  code?: string;
}

const ZERO_TIME_PREFIX = '0001-01-01';
/** Inspect results kept for listContainers, bounded. */
const INSPECT_CACHE_MAX = 4096;
/** Docker keeps json-file logs forever by default; cap them like the kubelet's log rotation. */
const LOG_CONFIG = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };

/** A Runtime on a Docker engine (20.10+). Cheap to construct; connects lazily. */
export class DockerRuntime implements Runtime {
  private readonly docker: Docker;
  private readonly socketPath: string;
  private readonly clusterLabel?: string;
  private readonly podTraffic: PodTrafficRules;
  private readonly events: ContainerEventHub;
  private readonly sandboxStopTimeout: number;
  private readonly callTimeoutMs: number;
  /** In-flight pulls by normalized reference: concurrent pulls of one image share one. */
  private readonly pulls = new SingleFlight<ImageStatus>();
  /** In-flight ensureNetwork by name: Docker's duplicate-name check is best effort. */
  private readonly networkOps = new Map<string, Promise<void>>();
  /** Container inspections by id, valid while the engine's list reports the same state. */
  private readonly inspectCache = new Map<string, { listState: string; status: ContainerStatus }>();
  /** Sandboxes with an event the engine's list may not show yet (bounded like the cache). */
  private readonly changed = new Set<string>();
  /** OOM evidence beyond the engine's flag, which Docker 20.10 often loses (see oom.ts). */
  private readonly oom: OomTracker;

  constructor(opts: DockerRuntimeOptions = {}) {
    this.socketPath = opts.socketPath ?? '/var/run/docker.sock';
    // A fresh connection per request (no keep-alive): a dockerd that is shutting down closes its
    // listener at once but keeps serving requests on connections it already has, so a kept-alive
    // connection would let a kubelet create and mount containers during the engine's shutdown
    // (seen: their overlay mounts outlive dockerd and block the containers' removal for good).
    this.docker = new Docker({ socketPath: this.socketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
    this.callTimeoutMs = opts.callTimeoutMs ?? 60_000;
    this.clusterLabel = opts.clusterLabel;
    this.podTraffic = new PodTrafficRules(opts.commandRunner, opts.iptablesPath ?? 'iptables', opts.clusterLabel);
    this.sandboxStopTimeout = opts.sandboxStopTimeoutSeconds ?? 2;
    this.oom = new OomTracker(opts.oomKillCounter ?? hostOomKills);
    this.events = new ContainerEventHub({
      backoff: opts.eventsBackoff,
      connect: (since) =>
        this.docker.getEvents({ since, filters: { type: ['container'], event: ['start', 'die', 'destroy', 'oom'] } }),
    });
  }

  async ping(): Promise<void> {
    try {
      await this.call('ping', (abortSignal) => (this.docker.ping as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, { abortSignal }), Math.max(1000, this.callTimeoutMs / 6));
    } catch (err) {
      throw this.error(err);
    }
  }

  async version(): Promise<string> {
    try {
      const v = await this.call('version', (abortSignal) => (this.docker.version as (o: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>).call(this.docker, { abortSignal }));
      return `docker ${v.Version}`;
    } catch (err) {
      throw this.error(err);
    }
  }

  // ---- networks ---------------------------------------------------------------------------

  ensureNetwork(spec: NetworkSpec): Promise<void> {
    const prev = this.networkOps.get(spec.name) ?? Promise.resolve();
    const op = prev.then(
      () => this.ensureNetworkNow(spec),
      () => this.ensureNetworkNow(spec),
    );
    this.networkOps.set(spec.name, op);
    const cleanup = () => {
      if (this.networkOps.get(spec.name) === op) this.networkOps.delete(spec.name);
    };
    op.then(cleanup, cleanup);
    return op;
  }

  private async ensureNetworkNow(spec: NetworkSpec): Promise<void> {
    const existing = await this.inspectNetwork(spec.name);
    if (existing) return checkSubnet(spec, existing);
    try {
      await this.call(`create network ${spec.name}`, (abortSignal) => this.docker.createNetwork({
        abortSignal,
        Name: spec.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: spec.subnet, Gateway: spec.gateway }] },
        Labels: this.ownLabels(spec.labels),
      }));
    } catch (err) {
      // Created concurrently by another process: fine if it is the same network.
      const raced = statusOf(err) === 409 ? await this.inspectNetwork(spec.name) : undefined;
      if (!raced) throw this.error(err);
      checkSubnet(spec, raced);
    }
  }

  private async inspectNetwork(name: string): Promise<Docker.NetworkInspectInfo | undefined> {
    try {
      return (await this.call(`inspect network ${name}`, () => this.docker.getNetwork(name).inspect())) as Docker.NetworkInspectInfo;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.error(err);
    }
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.call(`remove network ${name}`, (abortSignal) => this.docker.getNetwork(name).remove({ abortSignal }));
    } catch (err) {
      if (statusOf(err) !== 404) throw this.error(err);
    }
  }

  allowPodTraffic(cidr: string): Promise<void> {
    return this.podTraffic.allow(cidr);
  }

  disallowPodTraffic(cidr: string): Promise<void> {
    return this.podTraffic.disallow(cidr);
  }

  async listNetworks(filter: LabelFilter): Promise<{ name: string; subnet: string; labels: Record<string, string> }[]> {
    try {
      const nets = await this.call('list networks', (abortSignal) => this.docker.listNetworks({ abortSignal, filters: { label: this.labelFilters(filter) } }));
      return nets.map((n) => ({ name: n.Name, subnet: n.IPAM?.Config?.[0]?.Subnet ?? '', labels: { ...(n.Labels ?? {}) } }));
    } catch (err) {
      throw this.error(err);
    }
  }

  // ---- sandboxes --------------------------------------------------------------------------

  async runPodSandbox(config: SandboxConfig): Promise<SandboxStatus> {
    const exposed: Record<string, Record<string, never>> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of config.portMappings) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.hostIP ?? '', HostPort: String(p.hostPort) });
    }
    const create: Docker.ContainerCreateOptions = {
      name: config.name,
      Hostname: config.hostname,
      Image: config.image,
      Labels: this.ownLabels({ ...config.labels, [SANDBOX_LABEL]: 'true' }),
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: config.network,
        PortBindings: bindings,
        // App containers join this IPC namespace; Docker's default ("private") refuses that.
        IpcMode: 'shareable',
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        LogConfig: LOG_CONFIG,
      },
    };
    const container = await this.createWithImage(create);
    try {
      await this.call(`start sandbox ${config.name}`, (abortSignal) => container.start({ abortSignal }));
    } catch (err) {
      const failure = this.error(err);
      await this.removeQuietly(container.id, failure);
      throw failure;
    }
    const status = await this.podSandboxStatus(container.id);
    if (!status) throw new RuntimeError(`Sandbox ${config.name} disappeared right after it started.`, true);
    return status;
  }

  /** Creates a container; a missing image is pulled once (the CRI pulls the pause image itself). */
  private async createWithImage(create: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.createNamed(create);
    } catch (err) {
      if (statusOf(err) !== 404 || !create.Image || !/no such image/i.test(engineMessage(err))) throw this.error(err);
    }
    await this.pullImage(create.Image);
    try {
      return await this.createNamed(create);
    } catch (err) {
      throw this.error(err);
    }
  }

  /**
   * Creates a container under its name. When a dead container the engine cannot remove
   * ("Removal In Progress", e.g. its root filesystem still mounted after an engine restart)
   * holds that name, the new one gets the name plus a random suffix, as dockershim did
   * (`recoverFromCreationConflictIfNeeded`): labels, not names, identify a pod's containers.
   * A live holder is a real conflict and its error is passed on.
   */
  private async createNamed(create: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    const attempt = (name: string | undefined) =>
      this.call(`create container ${name ?? ''}`, (abortSignal) => this.docker.createContainer({ ...create, name, abortSignal }));
    try {
      return await attempt(create.name);
    } catch (err) {
      if (!create.name || statusOf(err) !== 409 || !/already in use/i.test(engineMessage(err))) throw err;
      const holder = await this.inspect(create.name);
      if (holder && !isDeadState(holder.State.Status, holder.State.Dead)) throw err;
      return attempt(`${create.name}_${randomBytes(4).toString('hex')}`);
    }
  }

  /** Removes a container after a failure, keeping the original failure as the one reported. */
  private async removeQuietly(id: string, cause: RuntimeError): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      cause.message += ` (and removing the half-created container ${id.slice(0, 12)} failed: ${engineMessage(err)})`;
    }
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.stopContainer(id, this.sandboxStopTimeout);
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.removeContainer(id);
  }

  /**
   * Lists sandboxes from Docker's container list; a sandbox that had an event since it was last
   * seen is inspected instead, because the list lags behind the event (see onContainerEvent).
   */
  async listPodSandboxes(filter: LabelFilter): Promise<SandboxStatus[]> {
    let list: Docker.ContainerInfo[];
    try {
      list = await this.call('list sandboxes', (abortSignal) => this.docker.listContainers({
        all: true,
        abortSignal,
        filters: { label: this.labelFilters(filter, `${SANDBOX_LABEL}=true`) },
      }));
    } catch (err) {
      throw this.error(err);
    }
    const out = await Promise.all(list.map(async (c): Promise<SandboxStatus | undefined> => {
      if (this.changed.has(c.Id)) {
        const status = await this.podSandboxStatus(c.Id);
        // Trust the list again once it shows what the inspection showed.
        if (!status || (status.state === 'ready') === (c.State === 'running')) this.changed.delete(c.Id);
        return status;
      }
      const running = c.State === 'running';
      const net = Object.values(c.NetworkSettings?.Networks ?? {})[0];
      return {
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        state: running ? 'ready' : 'notready',
        ip: running ? (net?.IPAddress ?? '') : '',
        labels: { ...c.Labels },
        createdAt: new Date(c.Created * 1000),
      };
    }));
    return out.filter((s): s is SandboxStatus => s !== undefined);
  }

  async podSandboxStatus(id: string): Promise<SandboxStatus | undefined> {
    const info = await this.inspect(id);
    if (!info || info.Config.Labels?.[SANDBOX_LABEL] !== 'true') return undefined;
    const running = info.State.Running;
    const net = info.NetworkSettings.Networks?.[info.HostConfig.NetworkMode ?? ''] ?? Object.values(info.NetworkSettings.Networks ?? {})[0];
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      state: running ? 'ready' : 'notready',
      ip: running ? (net?.IPAddress ?? '') : '',
      labels: { ...(info.Config.Labels ?? {}) },
      createdAt: new Date(info.Created),
    };
  }

  // ---- images -----------------------------------------------------------------------------

  pullImage(image: string): Promise<ImageStatus> {
    const key = normalizeImageReference(image);
    return this.pulls.do(key, () => this.pullNow(image));
  }

  private async pullNow(image: string): Promise<ImageStatus> {
    // An untagged reference would pull every tag of the repository.
    const ref = familiarImageReference(image);
    let events: unknown[];
    try {
      const stream = await this.docker.pull(ref);
      events = await new Promise<unknown[]>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err, output: unknown[]) => (err ? reject(err) : resolve(output)));
      });
    } catch (err) {
      throw this.error(err);
    }
    // The engine reports most pull failures inside the 200 OK progress stream, not as HTTP errors.
    const failed = events.map(progressError).find((m) => m !== undefined);
    if (failed !== undefined) throw new RuntimeError(failed, /not found|manifest unknown|does not exist/i.test(failed));
    const status = await this.imageStatus(ref);
    if (!status) throw new RuntimeError(`The engine pulled ${ref} but does not list it.`);
    return status;
  }

  async imageStatus(image: string): Promise<ImageStatus | undefined> {
    try {
      const info = await this.call(`inspect image ${image}`, () => this.docker.getImage(familiarImageReference(image)).inspect());
      return { id: info.Id, repoDigests: [...(info.RepoDigests ?? [])] };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.error(err);
    }
  }

  // ---- containers -------------------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const binds: string[] = [];
    const mounts: Docker.MountSettings[] = [];
    for (const m of config.mounts) {
      if (!m.volume) {
        binds.push(`${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
      } else if (m.subPath) {
        // Docker 20.10 has no VolumeOptions.Subpath: bind the directory inside the volume.
        const host = await this.volumeSubPath(m.source, m.subPath);
        binds.push(`${host}:${m.target}${m.readOnly ? ':ro' : ''}`);
      } else {
        mounts.push({ Type: 'volume', Source: m.source, Target: m.target, ReadOnly: m.readOnly });
      }
    }
    const { entrypoint, cmd } = commandOverrides(config);
    const create: Docker.ContainerCreateOptions = {
      name: config.name,
      Image: config.image,
      Entrypoint: entrypoint,
      Cmd: cmd,
      Env: config.env.map((e) => `${e.name}=${e.value}`),
      WorkingDir: config.workingDir || undefined,
      Labels: this.ownLabels({ ...config.labels, [SANDBOX_ID_LABEL]: sandboxId }),
      Tty: config.tty ?? false,
      OpenStdin: config.stdin ?? false,
      StdinOnce: (config.stdin ?? false) && (config.stdinOnce ?? false),
      HostConfig: {
        NetworkMode: `container:${sandboxId}`,
        IpcMode: config.hostIpc ? 'host' : `container:${sandboxId}`,
        PidMode: config.hostPid ? 'host' : config.pidNamespaceOf ? `container:${config.pidNamespaceOf}` : undefined,
        Binds: binds,
        Mounts: mounts,
        NanoCpus: config.nanoCpus || undefined,
        CpuShares: config.cpuShares || undefined,
        Memory: config.memoryBytes || undefined,
        LogConfig: LOG_CONFIG,
      },
    };
    try {
      const c = await this.createNamed(create);
      this.oom.created(c.id, (config.memoryBytes ?? 0) > 0);
      return c.id;
    } catch (err) {
      throw this.error(err);
    }
  }

  /** The host directory `<volume mountpoint>/<subPath>`, created if needed; must stay inside the volume. */
  private async volumeSubPath(volume: string, subPath: string): Promise<string> {
    let mountpoint: string;
    try {
      mountpoint = (await this.call(`inspect volume ${volume}`, (abortSignal) => this.docker.getVolume(volume).inspect({ abortSignal }))).Mountpoint;
    } catch (err) {
      throw this.error(err);
    }
    const host = path.resolve(mountpoint, subPath);
    if (host !== mountpoint && !host.startsWith(mountpoint + path.sep)) {
      throw new RuntimeError(`subPath "${subPath}" must stay inside volume ${volume}.`);
    }
    // The engine runs on this host (unix socket), so its volume directories are ours to create.
    await mkdir(host, { recursive: true });
    return host;
  }

  async startContainer(id: string): Promise<void> {
    this.inspectCache.delete(id);
    this.oom.started(id);
    try {
      await this.call(`start container ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).start({ abortSignal }));
    } catch (err) {
      if (statusOf(err) !== 304) throw this.error(err);
    } finally {
      this.inspectCache.delete(id);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.oom.stopRequested(id);
    try {
      const t = Math.max(0, Math.round(timeoutSeconds));
      await this.call(`stop container ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).stop({ t, abortSignal }), this.callTimeoutMs + t * 1000);
    } catch (err) {
      const code = statusOf(err);
      if (code !== 304 && code !== 404) throw this.error(err);
    } finally {
      this.inspectCache.delete(id);
    }
  }

  async removeContainer(id: string): Promise<void> {
    this.inspectCache.delete(id);
    this.oom.stopRequested(id);
    try {
      await this.call(`remove container ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }));
    } catch (err) {
      const code = statusOf(err);
      // 409 "removal … is already in progress": a concurrent remove will finish the job.
      if (code === 404 || (code === 409 && /already in progress/i.test(engineMessage(err)))) return;
      throw this.error(err);
    }
  }

  /**
   * Lists app containers (sandboxes excluded). Docker's list lacks exit codes and times, so
   * each container is inspected — but an inspection is reused while the list reports the same
   * state, which keeps a steady-state relist at one API call.
   */
  async listContainers(filter: LabelFilter): Promise<ContainerStatus[]> {
    let list: Docker.ContainerInfo[];
    try {
      list = await this.call('list containers', (abortSignal) => this.docker.listContainers({ all: true, abortSignal, filters: { label: this.labelFilters(filter, SANDBOX_ID_LABEL) } }));
    } catch (err) {
      throw this.error(err);
    }
    const out = await Promise.all(
      list.map(async (c) => {
        const cached = this.inspectCache.get(c.Id);
        // A copy: callers may change what they get; the cache must not change with it.
        if (cached && cached.listState === c.State) return { ...cached.status, labels: { ...cached.status.labels } };
        const status = await this.containerStatus(c.Id);
        if (status) this.remember(c.Id, c.State, { ...status, labels: { ...status.labels } });
        return status;
      }),
    );
    return out.filter((s): s is ContainerStatus => s !== undefined);
  }

  private remember(id: string, listState: string, status: ContainerStatus): void {
    this.inspectCache.delete(id);
    this.inspectCache.set(id, { listState, status });
    if (this.inspectCache.size > INSPECT_CACHE_MAX) {
      const oldest = this.inspectCache.keys().next().value;
      if (oldest !== undefined) this.inspectCache.delete(oldest);
    }
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const info = await this.inspect(id);
    if (!info) return undefined;
    const labels = { ...(info.Config.Labels ?? {}) };
    const state = containerState(info.State.Status);
    const netMode = info.HostConfig.NetworkMode ?? '';
    const startedAt = engineTime(info.State.StartedAt);
    let finishedAt = state === 'running' ? undefined : engineTime(info.State.FinishedAt);
    // Docker stamps StartedAt when its start call returns and FinishedAt from containerd's exit
    // event, so a process that exits at once can "finish" a few ms before it "started".
    if (startedAt && finishedAt && finishedAt < startedAt) finishedAt = startedAt;
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      sandboxId: labels[SANDBOX_ID_LABEL] ?? (netMode.startsWith('container:') ? netMode.slice('container:'.length) : ''),
      state,
      image: info.Config.Image,
      imageRef: info.Image,
      exitCode: state === 'running' ? 0 : info.State.ExitCode,
      reason: state !== 'running' && this.oom.oomKilled(info.Id, info.State.OOMKilled === true, info.State.ExitCode) ? 'OOMKilled' : '',
      message: info.State.Error ?? '',
      createdAt: new Date(info.Created),
      startedAt,
      finishedAt,
      labels,
    };
  }

  async containerStats(id: string): Promise<ContainerStats | undefined> {
    let st: Docker.ContainerStats;
    try {
      // one-shot: one sample at once, without Docker's second read a second later.
      st = await this.call(`stats of ${id.slice(0, 12)}`, (abortSignal) => {
        const c = this.docker.getContainer(id);
        return (c.stats as (o: { stream: false; 'one-shot': true; abortSignal: AbortSignal }) => Promise<Docker.ContainerStats>).call(c, { stream: false, 'one-shot': true, abortSignal });
      });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.error(err);
    }
    const read = Date.parse(st.read);
    // A stopped container answers with a zero time and no counters.
    if (!Number.isFinite(read) || read <= 0 || !st.cpu_stats?.cpu_usage) return undefined;
    const mem = st.memory_stats ?? {};
    const extra = (mem.stats ?? {}) as Record<string, number | undefined>;
    // Working set as the kubelet computes it: usage minus inactive file pages (cgroup v2 / v1 names).
    const inactive = extra.inactive_file ?? extra.total_inactive_file ?? 0;
    return {
      timestamp: read,
      cpuUsageCoreNanoSeconds: st.cpu_stats.cpu_usage.total_usage,
      memoryWorkingSetBytes: Math.max(0, (mem.usage ?? 0) - inactive),
    };
  }

  private async inspect(id: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.call(`inspect ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.error(err);
    }
  }

  // ---- exec and logs ----------------------------------------------------------------------

  async exec(
    id: string,
    cmd: string[],
    io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin?: Readable },
    opts: ExecOptions = {},
  ): Promise<ExecResult> {
    const { signal } = opts;
    const cancelled = () => new RuntimeError(`exec in ${id.slice(0, 12)} was cancelled`);
    let onAbort: (() => void) | undefined;
    try {
      if (signal?.aborted) throw cancelled();
      const exec = await this.docker.getContainer(id).exec({
        Cmd: cmd,
        AttachStdin: io.stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      const stream = await exec.start({ hijack: true, stdin: io.stdin !== undefined });
      const done = new Promise<void>((resolve, reject) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        // `on`, not `once`: a late EPIPE (stdin written after the process exited) must not go unhandled.
        stream.on('error', reject);
        // Docker has no call to kill an exec'd process: giving up closes our end of it.
        onAbort = () => {
          reject(cancelled());
          stream.destroy();
        };
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
      this.docker.modem.demuxStream(stream, io.stdout, io.stderr);
      // Ending stdin half-closes the hijacked connection, which is the process's EOF.
      if (io.stdin) io.stdin.pipe(stream);
      await done;
      const info = await exec.inspect();
      if (info.ExitCode === null) throw new RuntimeError(`exec in ${id.slice(0, 12)} ended without an exit code.`);
      return { exitCode: info.ExitCode };
    } catch (err) {
      throw this.error(err);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  async execStream(id: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    try {
      const exec = await this.docker.getContainer(id).exec({
        Cmd: cmd,
        AttachStdin: io.stdin !== undefined,
        AttachStdout: io.stdout !== undefined,
        AttachStderr: io.stderr !== undefined && !io.tty,
        Tty: io.tty,
      });
      const stream = await exec.start({ hijack: true, stdin: io.stdin !== undefined, Tty: io.tty });
      const output = this.sessionOutput(stream, io, io.tty);
      const done = output.then(async () => {
        const info = await exec.inspect();
        if (info.ExitCode === null) throw new RuntimeError(`exec in ${id.slice(0, 12)} ended without an exit code.`);
        return { exitCode: info.ExitCode };
      }).catch((err: unknown) => { throw this.error(err); });
      return {
        resize: (size) => resizeSoon(() => exec.resize({ h: size.height, w: size.width })),
        done,
        close: () => (stream as unknown as Duplex).destroy(),
      };
    } catch (err) {
      throw this.error(err);
    }
  }

  async attach(id: string, io: StreamIO): Promise<StreamSession> {
    try {
      const container = this.docker.getContainer(id);
      const info = await container.inspect();
      if (!info.State.Running) throw new RuntimeError(`container ${id.slice(0, 12)} is not running`);
      const stream = await container.attach({
        stream: true, hijack: true, stdin: io.stdin !== undefined && info.Config.OpenStdin,
        stdout: io.stdout !== undefined, stderr: io.stderr !== undefined || info.Config.Tty,
      });
      // Docker closes an attachment's output when its stdin is half-closed, unless the container
      // has StdinOnce (then it closes the process's stdin instead). The kubelet's attach (CRI,
      // containerd) keeps the output flowing after the client's stdin ended: so only half-close
      // for StdinOnce containers, and otherwise just stop sending.
      const done = this.sessionOutput(stream, io, info.Config.Tty, info.Config.StdinOnce === true).then(() => ({})).catch((err: unknown) => { throw this.error(err); });
      return {
        resize: (size) => resizeSoon(() => container.resize({ h: size.height, w: size.width })),
        done,
        close: () => (stream as Duplex).destroy(),
      };
    } catch (err) {
      throw this.error(err);
    }
  }

  /**
   * Wires a hijacked engine stream to a session's streams (raw with a terminal, demultiplexed
   * without) and settles when the engine's side ends. The end of `io.stdin` half-closes the
   * connection (the process's EOF) when `closeOnStdinEnd`, else it only stops the input.
   */
  private sessionOutput(stream: NodeJS.ReadWriteStream, io: StreamIO, tty: boolean, closeOnStdinEnd = true): Promise<void> {
    const duplex = stream as Duplex;
    const done = new Promise<void>((resolve, reject) => {
      duplex.once('end', resolve);
      duplex.once('close', resolve);
      duplex.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? resolve() : reject(err)));
    });
    const sink = new PassThrough();
    sink.resume();
    if (tty) duplex.on('data', (chunk: Buffer) => (io.stdout ?? sink).write(chunk));
    else this.docker.modem.demuxStream(duplex, io.stdout ?? sink, io.stderr ?? sink);
    // Ending stdin half-closes the hijacked connection (exec, stdinOnce attach: the process's EOF).
    if (io.stdin) {
      io.stdin.on('data', (chunk: Buffer) => { if (!duplex.destroyed) duplex.write(chunk); });
      io.stdin.once('end', () => { if (closeOnStdinEnd && !duplex.destroyed) duplex.end(); });
    }
    return done;
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    return openTcpFromNode(await this.podIP(sandboxId), port);
  }

  // ---- pod network ------------------------------------------------------------------------

  async podHttpGet(sandboxId: string, req: PodHttpGet, opts: PodNetworkOptions = {}): Promise<PodHttpResponse> {
    return httpGetFromNode(await this.podIP(sandboxId), req, opts.signal);
  }

  async podTcpConnect(sandboxId: string, target: { host?: string; port: number }, opts: PodNetworkOptions = {}): Promise<void> {
    return tcpConnectFromNode(await this.podIP(sandboxId), target, opts.signal);
  }

  /** The IP of a running sandbox: its address on the node's bridge network, reachable from this host. */
  private async podIP(sandboxId: string): Promise<string> {
    const sandbox = await this.podSandboxStatus(sandboxId);
    if (!sandbox) throw new RuntimeError(`No such container: ${sandboxId}`, true);
    if (!sandbox.ip) throw new RuntimeError(`Sandbox ${sandboxId.slice(0, 12)} is not running`);
    return sandbox.ip;
  }

  async logs(id: string, opts: LogOptions): Promise<Readable> {
    const info = await this.inspect(id);
    if (!info) throw new RuntimeError(`No such container: ${id}`, true);
    const container = this.docker.getContainer(id);
    const query: Docker.ContainerLogsOptions = { stdout: true, stderr: true, timestamps: opts.timestamps ?? false };
    // Undefined query values would be sent as `tail=`; leave them out.
    if (opts.tail !== undefined) query.tail = opts.tail;
    // The engine takes fractional Unix seconds.
    if (opts.since !== undefined) query.since = opts.since.getTime() / 1000;
    const out = new PassThrough();
    let source: NodeJS.ReadableStream;
    try {
      source = opts.follow
        ? await container.logs({ ...query, follow: true })
        : Readable.from([await container.logs({ ...query, follow: false })]);
    } catch (err) {
      throw this.error(err);
    }
    // TTY containers write raw bytes; others multiplex stdout/stderr in framed chunks.
    if (info.Config.Tty) source.on('data', (chunk: Buffer) => out.write(chunk));
    else this.docker.modem.demuxStream(source, out, out);
    source.on('end', () => out.end());
    source.on('error', (err: Error) => out.destroy(this.error(err)));
    out.on('close', () => {
      const s = source as NodeJS.ReadableStream & { destroy?: () => void };
      if (typeof s.destroy === 'function') s.destroy();
    });
    return out;
  }

  // ---- volumes ----------------------------------------------------------------------------

  async createVolume(name: string, labels: Record<string, string>, opts: VolumeOptions = {}): Promise<void> {
    // The local driver mounts a tmpfs for the volume while containers use it.
    const size = opts.tmpfs?.sizeBytes ?? 0;
    const driverOpts = opts.tmpfs ? { type: 'tmpfs', device: 'tmpfs', ...(size > 0 ? { o: `size=${size}` } : {}) } : undefined;
    try {
      // Creating an existing local volume returns it unchanged.
      await this.call(`create volume ${name}`, (abortSignal) => this.docker.createVolume({ abortSignal, Name: name, Labels: this.ownLabels(labels), ...(driverOpts ? { Driver: 'local', DriverOpts: driverOpts } : {}) }));
    } catch (err) {
      throw this.error(err);
    }
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.call(`remove volume ${name}`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal }));
    } catch (err) {
      if (statusOf(err) !== 404) throw this.error(err);
    }
  }

  async listVolumes(filter: LabelFilter): Promise<{ name: string; labels: Record<string, string> }[]> {
    try {
      const res = await this.call('list volumes', (abortSignal) => this.docker.listVolumes({ abortSignal, filters: { label: this.labelFilters(filter) } }));
      // `Volumes` is null, not [], when there are none.
      return (res.Volumes ?? []).map((v) => ({ name: v.Name, labels: { ...(v.Labels ?? {}) } }));
    } catch (err) {
      throw this.error(err);
    }
  }

  // ---- events -----------------------------------------------------------------------------

  onContainerEvent(handler: ContainerEventHandler): () => void {
    return this.events.subscribe((e) => {
      // Docker sends `die` before its container list shows the new state: a cached inspection
      // would then outlive the change, so the next list inspects this container again.
      this.inspectCache.delete(e.id);
      this.oom.event(e.id, e.action);
      if (e.labels[SANDBOX_LABEL] === 'true' && e.action !== 'destroy') {
        this.changed.add(e.id);
        if (this.changed.size > INSPECT_CACHE_MAX) this.changed.delete(this.changed.values().next().value ?? '');
      }
      handler(e);
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /**
   * Runs one short engine call with a deadline (`callTimeoutMs` unless given): the request is
   * aborted and the call rejects with a RuntimeError saying the engine did not answer, so a
   * dockerd that hangs (or restarts under an open request) never holds a pod worker forever.
   * Other errors are passed through unchanged for the caller's status-code checks.
   */
  private async call<T>(what: string, fn: (abortSignal: AbortSignal) => Promise<T>, ms = this.callTimeoutMs): Promise<T> {
    const signal = AbortSignal.timeout(ms);
    const timedOut = () => new RuntimeError(
      `The Docker engine at unix://${this.socketPath} did not answer ${what} within ${Math.round(ms / 1000)} s (is dockerd restarting or overloaded?).`,
    );
    // Raced as well as passed on: a few dockerode calls do not hand the signal to the request.
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(timedOut());
      signal.addEventListener('abort', onAbort, { once: true });
      fn(signal).then(resolve, (err: unknown) => reject(signal.aborted ? timedOut() : err)).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** The caller's labels plus the cluster label. */
  private ownLabels(labels: Record<string, string>): Record<string, string> {
    return this.clusterLabel ? { ...labels, [CLUSTER_LABEL]: this.clusterLabel } : { ...labels };
  }

  /** Docker `label` filters (ANDed): `k=v` per entry, extra ones, and the cluster scope. */
  private labelFilters(filter: LabelFilter, ...extra: string[]): string[] {
    const out = [...extra, ...Object.entries(filter).map(([k, v]) => `${k}=${v}`)];
    if (this.clusterLabel) out.push(`${CLUSTER_LABEL}=${this.clusterLabel}`);
    return out;
  }

  /** Converts anything dockerode throws into a RuntimeError with one clear sentence. */
  private error(err: unknown): RuntimeError {
    if (err instanceof RuntimeError) return err;
    const e = (err ?? {}) as EngineError;
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
      return new RuntimeError(
        `Cannot connect to the Docker engine at unix://${this.socketPath}: is dockerd running? Start it with: sudo bash scripts/engine.sh`,
      );
    }
    if (e.code === 'EACCES') {
      return new RuntimeError(`Permission denied on the Docker engine socket unix://${this.socketPath}: run as root or as a member of the docker group.`);
    }
    return new RuntimeError(engineMessage(err), statusOf(err) === 404);
  }
}

function checkSubnet(spec: NetworkSpec, existing: Docker.NetworkInspectInfo): void {
  const subnets = (existing.IPAM?.Config ?? []).map((c) => c.Subnet ?? '');
  if (!subnets.includes(spec.subnet)) {
    throw new RuntimeError(
      `Network ${spec.name} already exists with subnet ${subnets.join(', ') || '(none)'}, not ${spec.subnet}; remove it or choose another subnet.`,
    );
  }
}

/** A container the engine has given up on (`dead`) or is removing ("Removal In Progress"). */
function isDeadState(status: string | undefined, dead?: boolean): boolean {
  return dead === true || status === 'dead' || status === 'removing';
}

function containerState(status: string): ContainerState {
  switch (status) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

/** Docker reports "never" as `0001-01-01T00:00:00Z`. */
function engineTime(s: string | undefined): Date | undefined {
  if (!s || s.startsWith(ZERO_TIME_PREFIX)) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function statusOf(err: unknown): number | undefined {
  const code = (err as EngineError | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own sentence, without docker-modem's `(HTTP code 404) no such container - ` prefix. */
function engineMessage(err: unknown): string {
  const e = (err ?? {}) as EngineError;
  const json = e.json as { message?: unknown } | null | undefined;
  if (json && typeof json.message === 'string' && json.message) return json.message.trim();
  const msg = String(e.message ?? err);
  const m = /^\(HTTP code \d+\) [^-]*? - ([\s\S]*)$/.exec(msg);
  return (m ? m[1] : msg).trim();
}

/** The error of one pull progress message, if it is one. */
function progressError(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as { error?: unknown; errorDetail?: { message?: unknown } };
  if (typeof e.errorDetail?.message === 'string') return e.errorDetail.message;
  if (typeof e.error === 'string') return e.error;
  return undefined;
}
