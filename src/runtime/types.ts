/**
 * The container runtime interface: the narrow, CRI-shaped contract between the kubelet and a
 * container engine. `docker.ts` implements it on dockerode (the only file that imports
 * dockerode); `fake.ts` implements it in memory for unit tests and simulated nodes. Both pass
 * the contract suite in test/contract/runtime.contract.ts.
 *
 * Every method is safe to call concurrently for different objects. Errors are `RuntimeError`s
 * whose message is the engine's own sentence (it is shown to users in pod status).
 */
import type { Duplex, Readable } from 'node:stream';

/** A node's pod network (one Docker bridge network per node). */
export interface NetworkSpec {
  name: string;
  /** e.g. `10.244.1.0/24` */
  subnet: string;
  /** e.g. `10.244.1.1` */
  gateway: string;
  labels: Record<string, string>;
}

export interface SandboxConfig {
  /** Container name to use, unique per engine (e.g. `k8s_POD_<pod>_<ns>_<uid>_<attempt>`). */
  name: string;
  hostname: string;
  /** Network (node) the sandbox joins; its IP is the pod IP. */
  network: string;
  /** Pause image reference. */
  image: string;
  labels: Record<string, string>;
  /** Host ports to publish: containerPort → hostPort (TCP/UDP). */
  portMappings: { containerPort: number; hostPort: number; protocol: 'TCP' | 'UDP' | 'SCTP'; hostIP?: string }[];
}

export type SandboxState = 'ready' | 'notready';
export interface SandboxStatus {
  id: string;
  name: string;
  state: SandboxState;
  /** The pod IP on its network ('' when not running). */
  ip: string;
  labels: Record<string, string>;
  createdAt: Date;
}

export interface Mount {
  /** Absolute host path (bind) or a volume name (when `volume` is true). */
  source: string;
  target: string;
  readOnly: boolean;
  /** Source names a runtime-managed named volume rather than a host path. */
  volume: boolean;
  /** For a named volume: path inside the volume to mount (subPath). */
  subPath?: string;
}

/** How a named volume is backed. */
export interface VolumeOptions {
  tmpfs?: { sizeBytes: number };
}

export interface ContainerConfig {
  /** Engine-unique container name (e.g. `k8s_<container>_<pod>_<ns>_<uid>_<restartCount>`). */
  name: string;
  image: string;
  /** Overrides the image's ENTRYPOINT when set (Kubernetes `command`). */
  entrypoint?: string[];
  /** Overrides the image's CMD when set (Kubernetes `args`). */
  cmd?: string[];
  env: { name: string; value: string }[];
  workingDir?: string;
  mounts: Mount[];
  labels: Record<string, string>;
  /** CPU limit in nano CPUs (0 = none). */
  nanoCpus?: number;
  /** Relative CPU weight from requests (Docker CpuShares; 0 = default). */
  cpuShares?: number;
  /** Memory limit in bytes (0 = none). */
  memoryBytes?: number;
  tty?: boolean;
  stdin?: boolean;
  /** Close the process's stdin when the first attached client closes it (Kubernetes `stdinOnce`). */
  stdinOnce?: boolean;
  /**
   * Join the process namespace of this running container (or of the sandbox itself, by its id)
   * instead of getting its own: an ephemeral container's `targetContainerName`, or the sandbox
   * for a pod with `shareProcessNamespace`. Starting fails when it is not running.
   */
  pidNamespaceOf?: string;
  /** Use the node's own process namespace (a pod's `hostPID`); wins over `pidNamespaceOf`. */
  hostPid?: boolean;
  /** Use the node's own IPC namespace (a pod's `hostIPC`) instead of the sandbox's. */
  hostIpc?: boolean;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';
export interface ContainerStatus {
  id: string;
  name: string;
  sandboxId: string;
  state: ContainerState;
  image: string;
  /** Image ID the container runs (e.g. `sha256:…`). */
  imageRef: string;
  exitCode: number;
  /** `OOMKilled` when the engine says so, else ''. */
  reason: string;
  message: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  labels: Record<string, string>;
}

export interface ImageStatus {
  /** Image ID, e.g. `sha256:…`. */
  id: string;
  /** Repo digests, e.g. `nginx@sha256:…`, when known. */
  repoDigests: string[];
}

/** A terminal's size in character cells, as a `kubectl exec -t` resize sends it. */
export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * The streams of one interactive session (`execStream`, `attach`). `stdin` ending is the
 * process's EOF. With `tty` the process has a terminal: its stdout and stderr are one stream
 * (written to `stdout`) and `stderr` is not used.
 */
export interface StreamIO {
  stdin?: Readable;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty: boolean;
}

/** A running exec or attach session. */
export interface StreamSession {
  /** Sets the terminal size (tty sessions; ignored otherwise). */
  resize(size: TerminalSize): void;
  /**
   * Settles when the session's output has ended: for exec with the command's exit code; for
   * attach without one (the container ended, or the engine closed the attachment).
   */
  done: Promise<{ exitCode?: number }>;
  /** Gives up on the session: closes the connection to the engine (the process may run on). */
  close(): void;
}

export interface ExecResult {
  exitCode: number;
}

export interface ExecOptions {
  /**
   * Gives up on the command when aborted (a probe or hook timeout): the call rejects with a
   * RuntimeError. Docker cannot kill an exec'd process, so there the command may run on.
   */
  signal?: AbortSignal;
}

/** An HTTP GET into a pod's network: what an `httpGet` probe or lifecycle hook asks for. */
export interface PodHttpGet {
  /** Address to connect to; default the pod's IP (the sandbox's). */
  host?: string;
  port: number;
  /** Path and query, starting with `/`. */
  path: string;
  scheme: 'HTTP' | 'HTTPS';
  /** Request headers; a `Host` header sets the virtual host. */
  headers: { name: string; value: string }[];
}

export interface PodHttpResponse {
  statusCode: number;
  /** The start of the body (at most 10 KiB). */
  body: string;
}

export interface PodNetworkOptions {
  /** Gives up when aborted (the caller's timeout); the call then rejects with a RuntimeError. */
  signal?: AbortSignal;
}

export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (of those since `since`). */
  tail?: number;
  timestamps?: boolean;
  /** Only lines written at or after this time (Kubernetes' `sinceSeconds` / `sinceTime`). */
  since?: Date;
}

/** One sample of a container's usage (CRI `ContainerStats`). */
export interface ContainerStats {
  /** When the sample was taken (ms since the epoch). */
  timestamp: number;
  /** CPU time used since the container started, in core-nanoseconds. */
  cpuUsageCoreNanoSeconds: number;
  /** Memory in use minus inactive file cache (what Kubernetes calls the working set), bytes. */
  memoryWorkingSetBytes: number;
}

export interface LabelFilter {
  [label: string]: string;
}

export interface Runtime {
  /** Checks that the engine answers; throws RuntimeError with one clear sentence if not. */
  ping(): Promise<void>;
  /** Version string of the engine, e.g. `docker 20.10.24`. */
  version(): Promise<string>;

  ensureNetwork(spec: NetworkSpec): Promise<void>;
  removeNetwork(name: string): Promise<void>;
  /**
   * Lets pods on the node networks inside `cidr` reach each other directly, without NAT (the
   * Kubernetes network model: every pod reaches every pod by its IP). Idempotent; undone by
   * `disallowPodTraffic`. The fake records it.
   */
  allowPodTraffic(cidr: string): Promise<void>;
  disallowPodTraffic(cidr: string): Promise<void>;
  listNetworks(filter: LabelFilter): Promise<{ name: string; subnet: string; labels: Record<string, string> }[]>;

  /** Creates and starts a pause container on `network`; returns its id and IP. */
  runPodSandbox(config: SandboxConfig): Promise<SandboxStatus>;
  /** Stops the sandbox (idempotent; a missing sandbox is not an error). */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes the sandbox (idempotent). Containers must have been removed first. */
  removePodSandbox(id: string): Promise<void>;
  listPodSandboxes(filter: LabelFilter): Promise<SandboxStatus[]>;
  podSandboxStatus(id: string): Promise<SandboxStatus | undefined>;

  /** Pulls an image (concurrent pulls of one reference are done once). */
  pullImage(image: string): Promise<ImageStatus>;
  /** The local image, or undefined when it is not present. */
  imageStatus(image: string): Promise<ImageStatus | undefined>;

  /** Creates a container joined to the sandbox's network namespace (not started). */
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), waits `timeoutSeconds`, then SIGKILL. Idempotent. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes a container (idempotent). */
  removeContainer(id: string): Promise<void>;
  listContainers(filter: LabelFilter): Promise<ContainerStatus[]>;
  containerStatus(id: string): Promise<ContainerStatus | undefined>;
  /**
   * The container's resource usage now (CRI `ContainerStats`): cumulative CPU time and the
   * memory working set; undefined when the container is gone or not running. A CPU rate is the
   * difference of two samples over their timestamps.
   */
  containerStats(id: string): Promise<ContainerStats | undefined>;

  /** Runs a command in a running container; output goes to the given streams. */
  exec(
    id: string,
    cmd: string[],
    io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin?: Readable },
    opts?: ExecOptions,
  ): Promise<ExecResult>;

  /**
   * Starts a command in a running container with live streams and an optional terminal
   * (`kubectl exec -it`): stdin is forwarded as it arrives, output as it is written.
   */
  execStream(id: string, cmd: string[], io: StreamIO): Promise<StreamSession>;
  /**
   * Attaches to the main process of a running container (`kubectl attach`, `kubectl run -i`):
   * output from now on, and stdin when the container was created with `stdin`. `io.tty` must
   * match the container's own `tty`.
   */
  attach(id: string, io: StreamIO): Promise<StreamSession>;
  /**
   * Opens a TCP connection from the node to `port` of the pod whose sandbox is `sandboxId`, in
   * the pod's network namespace (`kubectl port-forward`); rejects like podTcpConnect.
   */
  portForward(sandboxId: string, port: number): Promise<Duplex>;

  /**
   * An HTTP(S) GET to a port of the pod whose sandbox is `sandboxId`, for `httpGet` probes and
   * hooks. It is sent from the node into the pod's network, to the pod IP (or `req.host`), as
   * the kubelet does: on Docker the node's bridge network is this host's, so the pod IP is
   * directly reachable and no host port or tool inside the image is needed. Redirects are not
   * followed and certificates not checked. Any HTTP status resolves; no connection or no
   * answer rejects with a RuntimeError worded like Go's
   * (`Get "http://10.244.1.5:81/": dial tcp 10.244.1.5:81: connect: connection refused`).
   */
  podHttpGet(sandboxId: string, req: PodHttpGet, opts?: PodNetworkOptions): Promise<PodHttpResponse>;
  /** Opens (and closes) a TCP connection to a port of the pod, as `tcpSocket` probes do; rejects like podHttpGet. */
  podTcpConnect(sandboxId: string, target: { host?: string; port: number }, opts?: PodNetworkOptions): Promise<void>;
  /** The container's log (stdout and stderr interleaved, as text lines). */
  logs(id: string, opts: LogOptions): Promise<Readable>;

  /**
   * Creates a named volume (for emptyDir); idempotent. With `tmpfs`, the volume is memory-backed
   * (`emptyDir.medium: Memory`), at most `sizeBytes` (0: the engine's default size).
   */
  createVolume(name: string, labels: Record<string, string>, opts?: VolumeOptions): Promise<void>;
  /** Removes a named volume (idempotent). */
  removeVolume(name: string): Promise<void>;
  listVolumes(filter: LabelFilter): Promise<{ name: string; labels: Record<string, string> }[]>;

  /**
   * Subscribes to container lifecycle changes (die, start, destroy) so the kubelet reacts
   * without polling. Returns an unsubscribe function. The fake emits on its own changes.
   */
  onContainerEvent(handler: (e: { id: string; action: 'start' | 'die' | 'destroy' | 'oom'; labels: Record<string, string> }) => void): () => void;
}

/** An engine error; `message` is the engine's sentence; `notFound` marks a missing object. */
export class RuntimeError extends Error {
  constructor(message: string, readonly notFound = false) {
    super(message);
    this.name = 'RuntimeError';
  }
}
