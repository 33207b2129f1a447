/**
 * Starting and killing one container the way the kubelet does (Kubernetes
 * `kuberuntime_container.go`: `startContainer`, `killContainer`): pull, create, start, then the
 * `postStart` hook — whose failure kills the container again; and for a kill, the `preStop`
 * hook first, then the stop signal with what is left of the grace period, then SIGKILL.
 *
 * Called only from a pod's worker, so never concurrently for one pod.
 */
import { NO_TRACE, type Tracer } from '../trace/recorder.js';
import { traceContainer } from '../trace/kubelet.js';
import type { Container, Pod } from '../api/types.js';
import { containerEnv, expandCommand, type EnvVarValue } from '../api/expansion.js';
import { ConfigError, envResolvers, type ConfigReader } from './configsource.js';
import { cpuToMillis, memoryToBytes } from '../api/quantity.js';
import type { ContainerConfig, ContainerStatus, Runtime } from '../runtime/types.js';
import type { Clock } from './clock.js';
import { hookFailureMessage, podDesc, type ActionRunner } from './handlers.js';
import type { ImageManager, Recorder } from './images.js';
import {
  containerName, LABEL_CONTAINER_NAME, LABEL_GRACE, LABEL_RESTART_COUNT, LABEL_SANDBOX_ID, podLabels, type NodeIdentity,
} from './naming.js';
import type { ContainerToKill } from './plan.js';
import { probeOf } from './probes.js';
import type { Waiting } from './status.js';

/** Kubernetes gives every stop at least this long between the stop signal and SIGKILL. */
export const MIN_GRACE_SECONDS = 2;
/** A postStart hook that has not finished by then counts as failed (it blocks the pod's sync). */
export const POST_START_TIMEOUT_MS = 120_000;

/** Why a container did not start, for its status, and when to try again. */
export interface StartFailure {
  waiting: Waiting;
  retryInMs: number;
}

export interface ContainerLifecycleOptions {
  runtime: Runtime;
  recorder: Recorder;
  /** Where container starts are traced (default: nowhere). */
  tracer?: Tracer;
  images: ImageManager;
  runner: ActionRunner;
  clock: Clock;
  id: NodeIdentity;
  hostIP: string;
  log: (msg: string) => void;
  /**
   * Runs a runtime create/start call in one of the kubelet's shared start slots (PodWorkers'
   * `startSlot`); the pull before it and the postStart hook after it run outside. Default: at once.
   */
  startSlot?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** ConfigMaps and Secrets for `env.valueFrom` and `envFrom` (none: such references fail). */
  config?: ConfigReader;
  /** Node allocatable, for `resourceFieldRef` limits a container does not set. */
  nodeAllocatable?: () => Readonly<Record<string, string>>;
  /** The service environment variables for a container of `pod` (see envvars.ts); none when absent. */
  serviceEnv?: (pod: Pod) => Readonly<Record<string, string>>;
}

/**
 * The spec of a container of the pod, app, init or ephemeral, by name (names are unique across
 * all three). An ephemeral container is returned as a Container: it has a subset of its fields.
 */
export function specOf(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...((pod.spec?.ephemeralContainers ?? []) as Container[])]
    .find((c) => c.name === name);
}

/**
 * The grace period of a kill: the probe's own `terminationGracePeriodSeconds` for a liveness or
 * startup failure when it sets one, else the deletion's, else the pod's (default 30 s).
 */
export function gracePeriodFor(pod: Pod, name: string, cause?: ContainerToKill['cause']): number {
  const spec = specOf(pod, name);
  if (spec && (cause === 'liveness' || cause === 'startup')) {
    const own = probeOf(spec, cause)?.terminationGracePeriodSeconds;
    if (own !== undefined && own !== null) return own;
  }
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export class ContainerLifecycle {
  constructor(private readonly o: ContainerLifecycleOptions) {}

  /**
   * Resolves the container's environment and mounts (`mountsFor` gets the environment, for
   * `subPathExpr`), pulls, creates and starts one container, then runs its postStart hook.
   * Returns why it waits when it could not start (or its hook failed and it was killed), else
   * undefined. `pidNamespaceOf` (an ephemeral container's target) is the id of the running
   * container whose process namespace it joins.
   */
  async start(pod: Pod, c: Container, sandbox: { id: string; ip: string }, restartCount: number,
    mountsFor: (env: readonly EnvVarValue[]) => ContainerConfig['mounts'], pidNamespaceOf?: string): Promise<StartFailure | undefined> {
    const { runtime, recorder } = this.o;
    const reader = this.o.config ?? { configMap: () => undefined, secret: () => undefined };
    const ns = pod.metadata?.namespace ?? 'default';
    let env: EnvVarValue[];
    let mounts: ContainerConfig['mounts'];
    try {
      env = containerEnv(c, {
        pod, podName: pod.metadata?.name ?? '', namespace: ns, uid: pod.metadata?.uid ?? '',
        nodeName: this.o.id.node, podIP: sandbox.ip, podIPs: sandbox.ip ? [sandbox.ip] : [], hostIP: this.o.hostIP, hostIPs: [this.o.hostIP],
        labels: pod.metadata?.labels ?? {}, annotations: pod.metadata?.annotations ?? {},
        serviceAccountName: pod.spec?.serviceAccountName ?? 'default', nodeAllocatable: this.o.nodeAllocatable?.(),
        serviceEnv: this.o.serviceEnv?.(pod) ?? {},
        ...envResolvers(pod, reader, (kind, name, keys) => recorder.event(pod, 'Warning', 'InvalidEnvironmentVariableNames',
          `Keys [${keys.join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`)),
      });
      mounts = mountsFor(env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // Kubernetes: the container waits with CreateContainerConfigError; the pod is synced again
      // when the object it needs appears (the ConfigMap/Secret watch), not on a timer.
      recorder.event(pod, 'Warning', 'Failed', `Error: ${e.message}`);
      return { waiting: { reason: 'CreateContainerConfigError', message: e.message }, retryInMs: Infinity };
    }
    // Pulled after the environment resolved (Kubernetes pulls first): a container that waits for
    // a ConfigMap or Secret does not pull its image again on every sync while it waits.
    const pulled = await this.o.images.ensure(pod, c);
    if (!pulled.ok) return { waiting: pulled.waiting, retryInMs: pulled.retryInMs };
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
        ...podLabels(this.o.id, pod), [LABEL_CONTAINER_NAME]: c.name, [LABEL_RESTART_COUNT]: String(restartCount),
        [LABEL_SANDBOX_ID]: sandbox.id, [LABEL_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      },
      nanoCpus: limits.cpu ? Math.round(cpuToMillis(String(limits.cpu)) * 1e6) : 0,
      cpuShares: requests.cpu ? Math.max(2, Math.round((cpuToMillis(String(requests.cpu)) * 1024) / 1000)) : 0,
      memoryBytes: limits.memory ? Math.round(memoryToBytes(String(limits.memory))) : 0,
      tty: c.tty === true,
      stdin: c.stdin === true,
      stdinOnce: c.stdinOnce === true,
      // The node's process namespace (`hostPID`); or one for the pod (`shareProcessNamespace`):
      // the sandbox's, whose pause process is PID 1; else an ephemeral container's target's, else
      // the container's own. `hostIPC`: the node's IPC namespace instead of the sandbox's.
      ...(pod.spec?.hostPID ? { hostPid: true } : pod.spec?.shareProcessNamespace ? { pidNamespaceOf: sandbox.id } : pidNamespaceOf ? { pidNamespaceOf } : {}),
      ...(pod.spec?.hostIPC ? { hostIpc: true } : {}),
    };
    const slot = this.o.startSlot ?? (<T>(fn: () => Promise<T>) => fn());
    let id: string;
    const t0 = performance.now();
    try {
      id = await slot(() => runtime.createContainer(sandbox.id, config));
    } catch (e) {
      const message = (e as Error).message;
      recorder.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      return { waiting: { reason: 'CreateContainerError', message }, retryInMs: 10_000 };
    }
    recorder.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    const t1 = performance.now();
    try {
      await slot(() => runtime.startContainer(id));
    } catch (e) {
      const message = (e as Error).message;
      recorder.event(pod, 'Warning', 'Failed', `Error: failed to start container "${c.name}": ${message}`);
      return { waiting: { reason: 'RunContainerError', message }, retryInMs: 10_000 };
    }
    recorder.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    traceContainer(this.o.tracer ?? NO_TRACE, pod, c.name, id, t0, t1, (cid) => runtime.containerStatus(cid));
    const postStart = c.lifecycle?.postStart;
    if (!postStart) return undefined;
    const outcome = await this.o.runner.run({ container: c, containerId: id, sandboxId: sandbox.id, podIP: sandbox.ip }, postStart, POST_START_TIMEOUT_MS);
    if (outcome.status === 'success') return undefined;
    const message = hookFailureMessage(pod, c.name, postStart, outcome);
    recorder.event(pod, 'Warning', 'FailedPostStartHook', message);
    const status = await runtime.containerStatus(id);
    if (status) await this.kill(pod, status, 'FailedPostStartHook', gracePeriodFor(pod, c.name), sandbox.ip);
    // The container exited: the next sync restarts it under the pod's restartPolicy and back-off.
    return { waiting: { reason: 'PostStartHookError', message }, retryInMs: 0 };
  }

  /**
   * Stops a container gracefully: a `Killing` event with `message`, the preStop hook (bounded by
   * the grace period, whose time it uses up), then the stop signal with what is left — at least
   * MIN_GRACE_SECONDS — before SIGKILL. A grace period of 0 stops at once, without the hook. The
   * container is kept (its status and logs are still wanted); idempotent for a stopped one.
   */
  async kill(pod: Pod, c: ContainerStatus, message: string, graceSeconds: number, podIP: string): Promise<void> {
    const name = c.labels[LABEL_CONTAINER_NAME] ?? '';
    const spec = specOf(pod, name);
    this.o.recorder.event(pod, 'Normal', 'Killing', message);
    let left = graceSeconds;
    const preStop = spec?.lifecycle?.preStop;
    if (spec && preStop && graceSeconds > 0 && c.state === 'running') {
      const started = this.o.clock.now().getTime();
      const outcome = await this.o.runner.run({ container: spec, containerId: c.id, sandboxId: c.sandboxId, podIP }, preStop, graceSeconds * 1000);
      if (outcome.timedOut) {
        // Not a failure of the hook: the grace period is over, and the stop signal comes now.
        this.o.log(`preStop hook of container ${name} in pod ${podDesc(pod)} did not complete within the grace period of ${graceSeconds}s`);
      } else if (outcome.status !== 'success') {
        const why = hookFailureMessage(pod, name, preStop, outcome);
        this.o.log(why);
        this.o.recorder.event(pod, 'Warning', 'FailedPreStopHook', why);
      }
      left -= (this.o.clock.now().getTime() - started) / 1000;
    }
    const timeout = graceSeconds > 0 ? Math.max(MIN_GRACE_SECONDS, Math.ceil(left)) : 0;
    await this.o.runtime.stopContainer(c.id, timeout);
  }
}
