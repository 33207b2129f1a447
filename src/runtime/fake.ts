/**
 * An in-memory Runtime for unit tests and simulated nodes. Deterministic: ids count up, IPs
 * are the lowest free address of the network's subnet, time comes from the injected clock and
 * container "processes" are the stand-ins of `fake-process.ts` (a program finishes inside
 * `startContainer`, or keeps running until stopped). It follows Docker's observable behaviour
 * closely enough to pass the same contract suite: names are unique, a missing image fails
 * `createContainer`, stop/remove are idempotent, events are emitted asynchronously.
 *
 * Test hooks: `addImage`, `publishImage`, `failPull`, `pullCount`, `exitContainer`,
 * `failPing`, `podTrafficCidrs`, `restartEngine`, `failRemoval`; {@link EngineFaults} makes every
 * call fail or hang, as a stopped or stuck engine does. Pod-network requests (`podHttpGet`, `podTcpConnect`) reach the
 * stand-in servers of `fake-process.ts` (nginx) listening in the target sandbox.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { effectiveArgv } from './command.js';
import type { ContainerEvent, ContainerEventHandler } from './events.js';
import { exitCodeOnStop, runFakeProgram, type FakeHttpResponse, type FakeProcessHost } from './fake-process.js';
import { CLUSTER_LABEL, SANDBOX_ID_LABEL, SANDBOX_LABEL } from './labels.js';
import { familiarImageReference, normalizeImageReference, parseImageReference } from './reference.js';
import { SingleFlight } from './singleflight.js';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type ExecOptions,
  type ExecResult,
  type ImageStatus,
  type LabelFilter,
  type LogOptions,
  type Mount,
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

export interface FakeRuntimeOptions {
  /** Clock for created/started/finished times and log timestamps. */
  now?: () => Date;
  /** Same meaning as DockerRuntimeOptions.clusterLabel: stamped on creation, scopes lists. */
  clusterLabel?: string;
  /** Simulated registry latency per pull (default 0: the pull completes on a later tick). */
  pullLatencyMs?: number;
}

/** An image's defaults, as `docker inspect` would show them. */
export interface FakeImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** `NAME=value` entries. */
  env?: string[];
  /** Files every container of the image starts with, by absolute path (e.g. nginx's index.html). */
  files?: Record<string, string>;
}

interface FakeImage extends FakeImageConfig {
  id: string;
  repoDigests: string[];
}

interface FakeNetwork {
  spec: NetworkSpec;
  base: number;
  size: number;
  used: Set<number>;
}

interface Listener {
  containerId: string;
  serve: (req: { path: string; clientIp: string }) => FakeHttpResponse;
}

interface FakeSandbox {
  id: string;
  name: string;
  config: SandboxConfig;
  state: 'ready' | 'notready';
  ip: string;
  labels: Record<string, string>;
  createdAt: Date;
  listeners: Map<number, Listener>;
}

interface LogLine {
  time: Date;
  text: string;
}

interface FakeContainer {
  id: string;
  name: string;
  sandboxId: string;
  config: ContainerConfig;
  image: FakeImage;
  argv: string[];
  env: Record<string, string>;
  state: ContainerState;
  exitCode: number;
  reason: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  labels: Record<string, string>;
  log: LogLine[];
  /** Output not yet terminated by a newline. */
  partial: string;
  /** Open `logs --follow` streams, each with its line format. */
  followers: Set<{ out: PassThrough; format: (l: LogLine) => string }>;
  /** The container's own filesystem (outside mounts), by absolute path. */
  files: Map<string, string>;
  /** Execs still running, resolved with 137 when the container stops. */
  execWaiters: Set<() => void>;
}

/** A Runtime in memory; see the file comment. Not thread-safe beyond JavaScript's one thread. */
export class FakeRuntime implements Runtime {
  private readonly now: () => Date;
  private readonly clusterLabel?: string;
  private readonly pullLatencyMs: number;
  private seq = 0;
  /** Usage set by {@link setUsage}: a CPU rate from `since`, on top of what was used before. */
  private readonly usage = new Map<string, { cpuCores: number; memoryBytes: number; since: number; baseNanos: number }>();
  private pulls = 0;
  private pingFailure?: string;
  private readonly removalFailures = new Map<string, string>();
  private readonly networks = new Map<string, FakeNetwork>();
  private readonly sandboxes = new Map<string, FakeSandbox>();
  private readonly containers = new Map<string, FakeContainer>();
  private readonly volumes = new Map<string, { labels: Record<string, string>; files: Map<string, string>; tmpfs?: { sizeBytes: number } }>();
  private readonly hostFiles = new Map<string, string>();
  /** Images present on the "node", by normalized reference. */
  private readonly images = new Map<string, FakeImage>();
  /** Image configs the "registry" serves; any other reference pulls as an empty image. */
  private readonly registry = new Map<string, FakeImageConfig>();
  private readonly pullFailures = new Map<string, string>();
  private readonly inflightPulls = new SingleFlight<ImageStatus>();
  private readonly allowedCidrs = new Set<string>();
  /** `tcp/8080` → sandbox id. */
  private readonly hostPorts = new Map<string, string>();
  private readonly handlers = new Set<ContainerEventHandler>();

  constructor(opts: FakeRuntimeOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    this.clusterLabel = opts.clusterLabel;
    this.pullLatencyMs = opts.pullLatencyMs ?? 0;
  }

  // ---- test hooks -------------------------------------------------------------------------

  /** Makes an image present locally (and pullable) with the given defaults. */
  addImage(ref: string, config: FakeImageConfig = {}): void {
    const key = normalizeImageReference(ref);
    this.registry.set(key, config);
    this.images.set(key, makeImage(key, config));
  }

  /** Makes an image pullable with the given defaults, without making it present. */
  publishImage(ref: string, config: FakeImageConfig = {}): void {
    this.registry.set(normalizeImageReference(ref), config);
  }

  /** Makes pulls of `ref` fail with the engine-style `message`; `undefined` clears it. */
  failPull(ref: string, message: string | undefined): void {
    const key = normalizeImageReference(ref);
    if (message === undefined) this.pullFailures.delete(key);
    else this.pullFailures.set(key, message);
  }

  /** Number of pulls that reached the "registry" (coalesced concurrent pulls count once). */
  get pullCount(): number {
    return this.pulls;
  }

  /** Makes a running container's process exit, as if it ended or was killed (OOM). */
  exitContainer(id: string, exitCode: number, opts: { oomKilled?: boolean } = {}): void {
    const c = this.mustContainer(id);
    if (c.state !== 'running') throw new RuntimeError(`Container ${id} is not running`);
    this.finish(c, exitCode, opts.oomKilled ? 'OOMKilled' : '');
  }

  /** Makes `ping` fail with `message` (the engine is "down"); `undefined` brings it back. */
  failPing(message: string | undefined): void {
    this.pingFailure = message;
  }

  /**
   * What a dockerd restart (no live-restore) leaves behind: every container stopped (as by
   * SIGKILL, exit code 137) and every sandbox not ready, with no events — the restarted engine
   * has none of the outage to replay.
   */
  restartEngine(): void {
    const handlers = new Set(this.handlers);
    this.handlers.clear();
    try {
      for (const c of this.containers.values()) if (c.state === 'running') this.finish(c, 137, '');
      for (const sb of this.sandboxes.values()) if (sb.state === 'ready') this.releaseSandbox(sb);
    } finally {
      for (const h of handlers) this.handlers.add(h);
    }
  }

  /**
   * Makes removing container or sandbox `id` fail with `message` (Docker's "Removal In Progress"
   * case: a dead container whose root filesystem is still mounted); `undefined` lets it go.
   */
  failRemoval(id: string, message: string | undefined): void {
    if (message === undefined) this.removalFailures.delete(id);
    else this.removalFailures.set(id, message);
  }

  /** CIDRs currently allowed by allowPodTraffic. */
  podTrafficCidrs(): string[] {
    return [...this.allowedCidrs].sort();
  }

  // ---- engine -----------------------------------------------------------------------------

  async ping(): Promise<void> {
    if (this.pingFailure !== undefined) throw new RuntimeError(this.pingFailure);
  }

  async version(): Promise<string> {
    return 'fake 1.0.0';
  }

  // ---- networks ---------------------------------------------------------------------------

  async ensureNetwork(spec: NetworkSpec): Promise<void> {
    const existing = this.networks.get(spec.name);
    if (existing) {
      if (existing.spec.subnet !== spec.subnet) {
        throw new RuntimeError(
          `Network ${spec.name} already exists with subnet ${existing.spec.subnet}, not ${spec.subnet}; remove it or choose another subnet.`,
        );
      }
      return;
    }
    const { base, size } = parseCidr(spec.subnet);
    for (const n of this.networks.values()) {
      if (base < n.base + n.size && n.base < base + size) {
        throw new RuntimeError('Pool overlaps with other one on this address space');
      }
    }
    this.networks.set(spec.name, {
      spec: { ...spec, labels: this.ownLabels(spec.labels) },
      base,
      size,
      used: new Set(),
    });
  }

  async removeNetwork(name: string): Promise<void> {
    const net = this.networks.get(name);
    if (!net) return;
    const active = [...this.sandboxes.values()].filter((s) => s.config.network === name && s.state === 'ready');
    if (active.length) throw new RuntimeError(`error while removing network: network ${name} has active endpoints`);
    this.networks.delete(name);
  }

  async allowPodTraffic(cidr: string): Promise<void> {
    parseCidr(cidr);
    this.allowedCidrs.add(cidr);
  }

  async disallowPodTraffic(cidr: string): Promise<void> {
    this.allowedCidrs.delete(cidr);
  }

  async listNetworks(filter: LabelFilter): Promise<{ name: string; subnet: string; labels: Record<string, string> }[]> {
    return [...this.networks.values()]
      .filter((n) => this.matches(n.spec.labels, filter))
      .map((n) => ({ name: n.spec.name, subnet: n.spec.subnet, labels: { ...n.spec.labels } }));
  }

  // ---- sandboxes --------------------------------------------------------------------------

  async runPodSandbox(config: SandboxConfig): Promise<SandboxStatus> {
    const net = this.networks.get(config.network);
    if (!net) throw new RuntimeError(`network ${config.network} not found`, true);
    this.checkNameFree(config.name);
    if (!this.images.has(normalizeImageReference(config.image))) await this.pullImage(config.image);
    this.checkNameFree(config.name); // The pull yielded; someone may have taken the name.
    const ports = config.portMappings.map((p) => ({ key: `${p.protocol.toLowerCase()}/${p.hostPort}`, hostPort: p.hostPort }));
    for (const p of ports) {
      if (this.hostPorts.has(p.key)) {
        throw new RuntimeError(`driver failed programming external connectivity: Bind for 0.0.0.0:${p.hostPort} failed: port is already allocated`);
      }
    }
    const id = this.nextId();
    const sandbox: FakeSandbox = {
      id,
      name: config.name,
      config: structuredClone(config),
      state: 'ready',
      ip: this.allocateIp(net),
      labels: this.ownLabels({ ...config.labels, [SANDBOX_LABEL]: 'true' }),
      createdAt: this.now(),
      listeners: new Map(),
    };
    for (const p of ports) this.hostPorts.set(p.key, id);
    this.sandboxes.set(id, sandbox);
    this.emit({ id, action: 'start', labels: sandbox.labels });
    return this.sandboxStatus(sandbox);
  }

  async stopPodSandbox(id: string): Promise<void> {
    const s = this.findSandbox(id);
    if (!s || s.state === 'notready') return;
    this.releaseSandbox(s);
    this.emit({ id: s.id, action: 'die', labels: s.labels });
  }

  async removePodSandbox(id: string): Promise<void> {
    const s = this.findSandbox(id);
    if (!s) return;
    const failure = this.removalFailures.get(s.id);
    if (failure) throw new RuntimeError(failure);
    if (s.state === 'ready') {
      this.releaseSandbox(s);
      this.emit({ id: s.id, action: 'die', labels: s.labels });
    }
    this.sandboxes.delete(s.id);
    this.emit({ id: s.id, action: 'destroy', labels: s.labels });
  }

  async listPodSandboxes(filter: LabelFilter): Promise<SandboxStatus[]> {
    return [...this.sandboxes.values()].filter((s) => this.matches(s.labels, filter)).map((s) => this.sandboxStatus(s));
  }

  async podSandboxStatus(id: string): Promise<SandboxStatus | undefined> {
    const s = this.findSandbox(id);
    return s ? this.sandboxStatus(s) : undefined;
  }

  // ---- images -----------------------------------------------------------------------------

  pullImage(image: string): Promise<ImageStatus> {
    const key = normalizeImageReference(image);
    return this.inflightPulls.do(key, () => this.pullNow(key));
  }

  private async pullNow(key: string): Promise<ImageStatus> {
    // Always yield, as a real pull does, so concurrent callers can join this one.
    await new Promise<void>((resolve) => setTimeout(resolve, this.pullLatencyMs));
    this.pulls++;
    const failure = this.pullFailures.get(key);
    if (failure !== undefined) throw new RuntimeError(failure, /not found|manifest unknown|does not exist/i.test(failure));
    const img = this.images.get(key) ?? makeImage(key, this.registry.get(key) ?? {});
    this.images.set(key, img);
    return { id: img.id, repoDigests: [...img.repoDigests] };
  }

  async imageStatus(image: string): Promise<ImageStatus | undefined> {
    const img = this.images.get(normalizeImageReference(image));
    return img ? { id: img.id, repoDigests: [...img.repoDigests] } : undefined;
  }

  // ---- containers -------------------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = this.findSandbox(sandboxId);
    if (!sandbox) throw new RuntimeError(`No such container: ${sandboxId}`, true);
    const image = this.images.get(normalizeImageReference(config.image));
    if (!image) throw new RuntimeError(`No such image: ${config.image}`, true);
    this.checkNameFree(config.name);
    for (const m of config.mounts) {
      // Like Docker, mounting a named volume that does not exist creates it.
      if (m.volume && !this.volumes.has(m.source)) this.volumes.set(m.source, { labels: {}, files: new Map() });
    }
    const id = this.nextId();
    const env: Record<string, string> = {};
    for (const e of image.env ?? []) {
      const eq = e.indexOf('=');
      if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    for (const e of config.env) env[e.name] = e.value;
    this.containers.set(id, {
      id,
      name: config.name,
      sandboxId: sandbox.id,
      config: structuredClone(config),
      image,
      argv: effectiveArgv(image, config),
      env,
      state: 'created',
      exitCode: 0,
      reason: '',
      createdAt: this.now(),
      labels: this.ownLabels({ ...config.labels, [SANDBOX_ID_LABEL]: sandbox.id }),
      log: [],
      partial: '',
      followers: new Set(),
      files: new Map(Object.entries(image.files ?? {})),
      execWaiters: new Set(),
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.mustContainer(id);
    if (c.state === 'running') return;
    const sandbox = this.sandboxes.get(c.sandboxId);
    if (!sandbox || sandbox.state !== 'ready') {
      throw new RuntimeError(`cannot join network of a non running container: ${c.sandboxId}`);
    }
    const pidOf = c.config.pidNamespaceOf;
    if (pidOf !== undefined && !c.config.hostPid && this.findContainer(pidOf)?.state !== 'running' && this.findSandbox(pidOf)?.state !== 'ready') {
      throw new RuntimeError(`cannot join PID of a non running container: ${pidOf}`);
    }
    c.state = 'running';
    c.startedAt = this.now();
    c.finishedAt = undefined;
    c.exitCode = 0;
    c.reason = '';
    this.emit({ id: c.id, action: 'start', labels: c.labels });
    const outcome = runFakeProgram(c.argv, this.processHost(c, sandbox, ''), true);
    if ('exit' in outcome) this.finish(c, outcome.exit, '');
  }

  async stopContainer(id: string, _timeoutSeconds: number): Promise<void> {
    const c = this.findContainer(id);
    if (c?.state === 'running') this.finish(c, exitCodeOnStop(c.argv), '');
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.findContainer(id);
    if (!c) return;
    const failure = this.removalFailures.get(c.id);
    if (failure) {
      if (c.state === 'running') this.finish(c, 137, '');
      throw new RuntimeError(failure);
    }
    if (c.state === 'running') this.finish(c, 137, '');
    this.containers.delete(c.id);
    this.emit({ id: c.id, action: 'destroy', labels: c.labels });
  }

  async listContainers(filter: LabelFilter): Promise<ContainerStatus[]> {
    return [...this.containers.values()].filter((c) => this.matches(c.labels, filter)).map((c) => this.containerStatusOf(c));
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const c = this.findContainer(id);
    return c ? this.containerStatusOf(c) : undefined;
  }

  /** Test hook: the running container `id` burns `cpuCores` and holds `memoryBytes` from now on (by the fake's clock). */
  setUsage(id: string, cpuCores: number, memoryBytes: number): void {
    const c = this.findContainer(id);
    if (!c) throw new RuntimeError(`No such container: ${id}`, true);
    const base = this.cpuUsedNanos(c);
    this.usage.set(c.id, { cpuCores, memoryBytes, since: this.now().getTime(), baseNanos: base });
  }

  private cpuUsedNanos(c: FakeContainer): number {
    const u = this.usage.get(c.id);
    if (!u) return 0;
    return u.baseNanos + Math.max(0, this.now().getTime() - u.since) * 1e6 * u.cpuCores;
  }

  async containerStats(id: string): Promise<ContainerStats | undefined> {
    const c = this.findContainer(id);
    if (!c || c.state !== 'running') return undefined;
    return { timestamp: this.now().getTime(), cpuUsageCoreNanoSeconds: this.cpuUsedNanos(c), memoryWorkingSetBytes: this.usage.get(c.id)?.memoryBytes ?? 0 };
  }

  // ---- exec and logs ----------------------------------------------------------------------

  async exec(
    id: string,
    cmd: string[],
    io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin?: Readable },
    opts: ExecOptions = {},
  ): Promise<ExecResult> {
    const c = this.mustContainer(id);
    if (c.state !== 'running') throw new RuntimeError(`Container ${c.id} is not running`);
    const stdin = io.stdin ? await readAll(io.stdin) : '';
    const sandbox = this.sandboxes.get(c.sandboxId);
    if (!sandbox) throw new RuntimeError(`No such container: ${c.sandboxId}`, true);
    if (opts.signal?.aborted) throw cancelled(c.id);
    const outcome = runFakeProgram(cmd, this.processHost(c, sandbox, stdin, io), false);
    if ('exit' in outcome) return { exitCode: outcome.exit };
    // A long-running exec lasts until the container stops, or until the caller gives up on it.
    const signal = opts.signal;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        c.execWaiters.delete(done);
        reject(cancelled(c.id));
      };
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      c.execWaiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { exitCode: 137 };
  }

  /** Runs the fake program once all of stdin has arrived (the fake has no terminals). */
  async execStream(id: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    const abort = new AbortController();
    const sink = new PassThrough().resume();
    const done = this.exec(id, cmd, { stdout: io.stdout ?? sink, stderr: io.stderr ?? io.stdout ?? sink, stdin: io.stdin }, { signal: abort.signal });
    return { resize: () => undefined, done, close: () => abort.abort() };
  }

  /** Attaches to nothing the fake's programs write, and ends when the container stops. */
  async attach(id: string, _io: StreamIO): Promise<StreamSession> {
    const c = this.mustContainer(id);
    if (c.state !== 'running') throw new RuntimeError(`container ${c.id} is not running`);
    let close = (): void => undefined;
    const done = new Promise<{ exitCode?: number }>((resolve) => {
      const ended = () => resolve({});
      c.execWaiters.add(ended);
      close = () => {
        c.execWaiters.delete(ended);
        resolve({});
      };
    });
    return { resize: () => undefined, done, close: () => close() };
  }

  /** The fake's pods are not reachable over TCP: refused unless a stand-in server listens. */
  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    await this.podTcpConnect(sandboxId, { port });
    throw new RuntimeError(`the fake runtime cannot carry a port-forward to port ${port}`);
  }

  // ---- pod network ------------------------------------------------------------------------

  async podHttpGet(sandboxId: string, req: PodHttpGet, opts: PodNetworkOptions = {}): Promise<PodHttpResponse> {
    const { sandbox, host } = this.podTarget(sandboxId, req.host);
    const url = `${req.scheme.toLowerCase()}://${host}:${req.port}${req.path}`;
    if (opts.signal?.aborted) throw new RuntimeError(`Get "${url}": context canceled`);
    const listener = sandbox?.listeners.get(req.port);
    if (!sandbox || !listener) throw new RuntimeError(`Get "${url}": dial tcp ${host}:${req.port}: connect: connection refused`);
    const gateway = this.networks.get(sandbox.config.network)?.spec.gateway ?? '';
    const res = listener.serve({ path: req.path, clientIp: gateway });
    return { statusCode: res.status, body: res.body.slice(0, 10 * 1024) };
  }

  async podTcpConnect(sandboxId: string, target: { host?: string; port: number }, opts: PodNetworkOptions = {}): Promise<void> {
    const { sandbox, host } = this.podTarget(sandboxId, target.host);
    if (opts.signal?.aborted) throw new RuntimeError(`dial tcp ${host}:${target.port}: operation was canceled`);
    if (!sandbox?.listeners.has(target.port)) throw new RuntimeError(`dial tcp ${host}:${target.port}: connect: connection refused`);
  }

  /** The sandbox a pod-network request reaches: the given one, or the ready sandbox holding `host`. */
  private podTarget(sandboxId: string, host: string | undefined): { sandbox?: FakeSandbox; host: string } {
    const own = this.findSandbox(sandboxId);
    if (!own) throw new RuntimeError(`No such container: ${sandboxId}`, true);
    if (own.state !== 'ready') throw new RuntimeError(`Sandbox ${own.id} is not running`);
    if (!host || host === own.ip) return { sandbox: own, host: own.ip };
    return { sandbox: [...this.sandboxes.values()].find((s) => s.state === 'ready' && s.ip === host), host };
  }

  async logs(id: string, opts: LogOptions): Promise<Readable> {
    const c = this.mustContainer(id);
    const out = new PassThrough();
    const format = (l: LogLine) => (opts.timestamps ? `${l.time.toISOString()} ${l.text}` : l.text);
    const since = opts.since?.getTime();
    const recent = since === undefined ? c.log : c.log.filter((l) => l.time.getTime() >= since);
    const lines = opts.tail === undefined ? recent : opts.tail <= 0 ? [] : recent.slice(-opts.tail);
    for (const l of lines) out.write(format(l));
    if (opts.follow && c.state === 'running') {
      const follower = { out, format };
      c.followers.add(follower);
      out.on('close', () => c.followers.delete(follower));
    } else {
      out.end();
    }
    return out;
  }

  // ---- volumes ----------------------------------------------------------------------------

  async createVolume(name: string, labels: Record<string, string>, opts: VolumeOptions = {}): Promise<void> {
    if (!this.volumes.has(name)) this.volumes.set(name, { labels: this.ownLabels(labels), files: new Map(), ...(opts.tmpfs ? { tmpfs: opts.tmpfs } : {}) });
  }

  /** The configuration a container was created with (for tests), or undefined when it is gone. */
  containerConfig(id: string): ContainerConfig | undefined {
    const c = this.findContainer(id);
    return c ? structuredClone(c.config) : undefined;
  }

  /** How a volume is backed (for tests of `emptyDir.medium: Memory`). */
  volumeOptions(name: string): VolumeOptions | undefined {
    const v = this.volumes.get(name);
    return v ? (v.tmpfs ? { tmpfs: v.tmpfs } : {}) : undefined;
  }

  async removeVolume(name: string): Promise<void> {
    if (!this.volumes.has(name)) return;
    const users = [...this.containers.values()].filter((c) => c.config.mounts.some((m) => m.volume && m.source === name));
    if (users.length) throw new RuntimeError(`remove ${name}: volume is in use - [${users.map((c) => c.id).join(', ')}]`);
    this.volumes.delete(name);
  }

  async listVolumes(filter: LabelFilter): Promise<{ name: string; labels: Record<string, string> }[]> {
    return [...this.volumes.entries()]
      .filter(([, v]) => this.matches(v.labels, filter))
      .map(([name, v]) => ({ name, labels: { ...v.labels } }));
  }

  // ---- events -----------------------------------------------------------------------------

  onContainerEvent(handler: ContainerEventHandler): () => void {
    const entry: ContainerEventHandler = (e) => handler(e);
    this.handlers.add(entry);
    return () => {
      this.handlers.delete(entry);
    };
  }

  /** Delivers an event on a later microtask (as an engine would), to handlers subscribed now. */
  private emit(e: ContainerEvent): void {
    const targets = [...this.handlers];
    if (!targets.length) return;
    const event = { ...e, labels: { ...e.labels } };
    queueMicrotask(() => {
      for (const h of targets) if (this.handlers.has(h)) h(event);
    });
  }

  // ---- internals --------------------------------------------------------------------------

  private nextId(): string {
    return (++this.seq).toString(16).padStart(64, '0');
  }

  private ownLabels(labels: Record<string, string>): Record<string, string> {
    return this.clusterLabel ? { ...labels, [CLUSTER_LABEL]: this.clusterLabel } : { ...labels };
  }

  private matches(labels: Record<string, string>, filter: LabelFilter): boolean {
    if (this.clusterLabel && labels[CLUSTER_LABEL] !== this.clusterLabel) return false;
    return Object.entries(filter).every(([k, v]) => labels[k] === v);
  }

  private checkNameFree(name: string): void {
    const holder = [...this.containers.values(), ...this.sandboxes.values()].find((o) => o.name === name);
    if (holder) {
      throw new RuntimeError(
        `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
  }

  /** Docker accepts an id or a name wherever it takes a container. */
  private findContainer(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }

  private mustContainer(idOrName: string): FakeContainer {
    const c = this.findContainer(idOrName);
    if (!c) throw new RuntimeError(`No such container: ${idOrName}`, true);
    return c;
  }

  private findSandbox(idOrName: string): FakeSandbox | undefined {
    return this.sandboxes.get(idOrName) ?? [...this.sandboxes.values()].find((s) => s.name === idOrName);
  }

  private allocateIp(net: FakeNetwork): string {
    const gateway = ipToInt(net.spec.gateway);
    for (let i = 1; i < net.size - 1; i++) {
      const ip = net.base + i;
      if (ip !== gateway && !net.used.has(ip)) {
        net.used.add(ip);
        return intToIp(ip);
      }
    }
    throw new RuntimeError(`no available IPv4 addresses on this network's address pools: ${net.spec.name}`);
  }

  /** Stops a sandbox: like Docker, its IP and host ports are released while it is not running. */
  private releaseSandbox(s: FakeSandbox): void {
    s.state = 'notready';
    this.networks.get(s.config.network)?.used.delete(ipToInt(s.ip));
    s.ip = '';
    for (const [key, owner] of this.hostPorts) if (owner === s.id) this.hostPorts.delete(key);
  }

  private sandboxStatus(s: FakeSandbox): SandboxStatus {
    return { id: s.id, name: s.name, state: s.state, ip: s.ip, labels: { ...s.labels }, createdAt: s.createdAt };
  }

  private containerStatusOf(c: FakeContainer): ContainerStatus {
    return {
      id: c.id,
      name: c.name,
      sandboxId: c.sandboxId,
      state: c.state,
      image: c.config.image,
      imageRef: c.image.id,
      exitCode: c.exitCode,
      reason: c.reason,
      message: '',
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      labels: { ...c.labels },
    };
  }

  /** The process ended: record it, close its servers, log followers and execs, emit events. */
  private finish(c: FakeContainer, exitCode: number, reason: string): void {
    if (c.partial) this.appendLine(c, c.partial);
    c.partial = '';
    c.state = 'exited';
    c.exitCode = exitCode;
    c.reason = reason;
    c.finishedAt = this.now();
    const sandbox = this.sandboxes.get(c.sandboxId);
    if (sandbox) {
      for (const [port, l] of sandbox.listeners) if (l.containerId === c.id) sandbox.listeners.delete(port);
    }
    for (const f of c.followers) f.out.end();
    c.followers.clear();
    for (const w of c.execWaiters) w();
    c.execWaiters.clear();
    if (reason === 'OOMKilled') this.emit({ id: c.id, action: 'oom', labels: c.labels });
    this.emit({ id: c.id, action: 'die', labels: c.labels });
  }

  private appendOutput(c: FakeContainer, text: string): void {
    const parts = (c.partial + text).split('\n');
    c.partial = parts.pop() ?? '';
    for (const p of parts) this.appendLine(c, p);
  }

  private appendLine(c: FakeContainer, line: string): void {
    const entry = { time: this.now(), text: `${line}\n` };
    c.log.push(entry);
    for (const f of c.followers) f.out.write(f.format(entry));
  }

  /** What a process in container `c` sees; output goes to `io` for an exec, else to the log. */
  private processHost(
    c: FakeContainer,
    sandbox: FakeSandbox,
    stdin: string,
    io?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  ): FakeProcessHost {
    return {
      env: { ...c.env },
      hostname: sandbox.config.hostname,
      cwd: c.config.workingDir || '/',
      stdin,
      now: this.now,
      stdout: io ? (t) => void io.stdout.write(t) : (t) => this.appendOutput(c, t),
      stderr: io ? (t) => void io.stderr.write(t) : (t) => this.appendOutput(c, t),
      readFile: (file) => {
        const loc = this.locate(c, file);
        return loc.store.get(loc.key);
      },
      writeFile: (file, content, append) => {
        const loc = this.locate(c, file);
        if (loc.readOnly) return 'Read-only file system';
        loc.store.set(loc.key, (append ? (loc.store.get(loc.key) ?? '') : '') + content);
        return undefined;
      },
      removeFile: (file) => {
        const loc = this.locate(c, file);
        if (!loc.store.has(loc.key)) return 'No such file or directory';
        if (loc.readOnly) return 'Read-only file system';
        loc.store.delete(loc.key);
        return undefined;
      },
      listen: (port, serve) => {
        sandbox.listeners.set(port, { containerId: c.id, serve });
      },
      fetch: (url) => this.fetch(sandbox, url),
    };
  }

  /** Where a file path of container `c` lives: a volume, the host (bind) or the container itself. */
  private locate(c: FakeContainer, file: string): { store: Map<string, string>; key: string; readOnly: boolean } {
    const abs = path.posix.resolve(c.config.workingDir || '/', file);
    let best: Mount | undefined;
    for (const m of c.config.mounts) {
      const target = m.target.replace(/\/+$/, '');
      if ((abs === target || abs.startsWith(`${target}/`)) && (!best || target.length > best.target.length)) best = m;
    }
    if (!best) return { store: c.files, key: abs, readOnly: false };
    const rel = abs.slice(best.target.replace(/\/+$/, '').length);
    if (best.volume) {
      let vol = this.volumes.get(best.source);
      if (!vol) {
        vol = { labels: {}, files: new Map() };
        this.volumes.set(best.source, vol);
      }
      return { store: vol.files, key: path.posix.join('/', best.subPath ?? '', rel), readOnly: best.readOnly };
    }
    return { store: this.hostFiles, key: path.posix.join(best.source, rel), readOnly: best.readOnly };
  }

  /** An HTTP GET from a pod: loopback stays in the pod; pod IPs are reachable on one network or an allowed CIDR. */
  private fetch(from: FakeSandbox, url: string): FakeHttpResponse | { error: string } {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { error: `bad address '${url}'` };
    }
    const port = u.port ? Number(u.port) : 80;
    const local = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
    const target = local ? from : [...this.sandboxes.values()].find((s) => s.state === 'ready' && s.ip === u.hostname);
    if (!target || (!local && !this.reachable(from, target))) return { error: 'download timed out' };
    const listener = target.listeners.get(port);
    if (!listener) return { error: `can't connect to remote host (${u.hostname}): Connection refused` };
    return listener.serve({ path: u.pathname + u.search, clientIp: local ? '127.0.0.1' : from.ip });
  }

  private reachable(a: FakeSandbox, b: FakeSandbox): boolean {
    if (!a.ip || !b.ip) return false;
    if (a.config.network === b.config.network) return true;
    const [ia, ib] = [ipToInt(a.ip), ipToInt(b.ip)];
    return [...this.allowedCidrs].some((cidr) => {
      const { base, size } = parseCidr(cidr);
      return ia >= base && ia < base + size && ib >= base && ib < base + size;
    });
  }
}

function makeImage(key: string, config: FakeImageConfig): FakeImage {
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  const ref = parseImageReference(key);
  const repo = familiarImageReference(`${ref.registry}/${ref.repository}`).replace(/:latest$/, '');
  return { ...structuredClone(config), id: `sha256:${hash(key)}`, repoDigests: [`${repo}@sha256:${hash(`manifest:${key}`)}`] };
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function parseCidr(cidr: string): { base: number; size: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new RuntimeError(`invalid CIDR address: ${cidr}`);
  const size = 2 ** (32 - Number(m[2]));
  return { base: ipToInt(m[1]) - (ipToInt(m[1]) % size), size };
}

function cancelled(id: string): RuntimeError {
  return new RuntimeError(`exec in ${id.slice(0, 12)} was cancelled`);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString();
}

/** How the engine behind {@link EngineFaults.wrap} answers: normally, not at all (refused), or never (hung). */
export type EngineMode = 'up' | 'down' | 'hang';

/**
 * Faults of the engine itself, for any Runtime: `down` rejects every call as a stopped dockerd
 * does (its socket refuses connections), `hang` holds every call until the mode changes (then it
 * proceeds), `up` passes calls through. Event subscriptions are not affected.
 */
export class EngineFaults {
  private current: EngineMode = 'up';
  private readonly held = new Set<() => void>();

  constructor(private readonly message = 'Cannot connect to the Docker engine at unix:///var/run/docker.sock: is dockerd running?') {}

  get mode(): EngineMode {
    return this.current;
  }

  /** Calls currently held by `hang`. */
  get hung(): number {
    return this.held.size;
  }

  set(mode: EngineMode): void {
    this.current = mode;
    if (mode === 'hang') return;
    const waiting = [...this.held];
    this.held.clear();
    for (const release of waiting) release();
  }

  /** `runtime` behind these faults. */
  wrap(runtime: Runtime): Runtime {
    return new Proxy(runtime, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop === 'onContainerEvent') return fn.bind(target);
        return (...args: unknown[]) => this.gate(() => fn.apply(target, args));
      },
    });
  }

  private async gate(call: () => unknown): Promise<unknown> {
    while (this.current !== 'up') {
      if (this.current === 'down') throw new RuntimeError(this.message);
      await new Promise<void>((resolve) => this.held.add(resolve));
    }
    return call();
  }
}
