/**
 * Derives a Pod's status from what the runtime reports (Kubernetes `generateAPIPodStatus`,
 * `getPhase` and the prober manager's `UpdatePodStatus`). Pure: the runtime's labels and states
 * are the truth, plus what only the kubelet knows: waiting reasons (image pull errors, mount
 * errors, failed hooks), restart back-off and the probes' verdicts.
 */
import type { Container, ContainerState as K8sState, ContainerStatus as K8sContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import type { EphemeralContainer } from 'kubernetes-types/core/v1.js';
import type { ContainerStatus } from '../runtime/types.js';
import { currentSandbox, instancesOf, isSidecar, reportedEphemeralStatus, reportedStatus, restartCountOf, shouldRestart, type PodRuntimeState } from './plan.js';
import { containerReadiness, type ContainerProbeResults } from './probes.js';

/** A reason a container is not running that only the kubelet knows (e.g. `ErrImagePull`). */
export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInputs {
  pod: Pod;
  state: PodRuntimeState;
  /** Waiting reasons by container name. */
  waiting: Record<string, Waiting>;
  /** Containers held in restart back-off: name → ms left. */
  backoff: Record<string, number>;
  /** The node's IP (status.hostIP). */
  hostIP: string;
  now: Date;
  /** The probes' verdicts by container id (no entry: no verdict yet, or no probe). */
  probes?: Record<string, ContainerProbeResults>;
}

/** RFC 3339 without fractional seconds, as Kubernetes writes times. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function terminated(c: ContainerStatus): K8sState {
  const reason = c.reason === 'OOMKilled' ? 'OOMKilled' : c.exitCode === 0 ? 'Completed' : 'Error';
  return {
    terminated: {
      exitCode: c.exitCode, reason,
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAt ? rfc3339(c.startedAt) : undefined,
      finishedAt: c.finishedAt ? rfc3339(c.finishedAt) : undefined,
      containerID: `docker://${c.id}`,
    },
  };
}

const waitingState = (reason: string, message?: string): K8sState => ({ waiting: { reason, ...(message ? { message } : {}) } });

function containerStatusFor(inputs: StatusInputs, spec: Container, init: boolean): K8sContainerStatus {
  const { state, waiting, backoff, pod } = inputs;
  const name = spec.name;
  const sandbox = currentSandbox(state);
  const all = instancesOf(state, name);
  const last = all[0];
  // Containers that have not run yet wait for the pod's init containers, or for their creation.
  const defaultReason = (pod.spec?.initContainers ?? []).length ? 'PodInitializing' : 'ContainerCreating';
  const restartCount = last ? restartCountOf(last) : (reportedStatus(pod, name, init)?.restartCount ?? 0);
  const base = { name, image: spec.image ?? '', imageID: '', ready: false, restartCount, started: false };
  const w = waiting[name];
  if (!last) return { ...base, state: waitingState(w?.reason ?? defaultReason, w?.message) };
  const ids = { imageID: last.imageRef ? `docker-pullable://${last.imageRef}` : '', containerID: `docker://${last.id}` };
  const previous = all.find((c) => c !== last && c.state === 'exited');
  const lastState: K8sState = previous ? terminated(previous) : {};
  const inCurrentSandbox = sandbox !== undefined && last.sandboxId === sandbox.id;
  if (last.state === 'running' && inCurrentSandbox && sandbox.state === 'ready') {
    // A sidecar is probed like an app container; an ordinary init container is never ready while it runs.
    const { started, ready } = init && !isSidecar(spec) ? { started: true, ready: false } : containerReadiness(spec, true, inputs.probes?.[last.id]);
    return {
      ...base, ...ids, ready, started, lastState,
      state: { running: { startedAt: last.startedAt ? rfc3339(last.startedAt) : rfc3339(inputs.now) } },
    };
  }
  if (last.state === 'exited') {
    const restarting = isSidecar(spec) || (shouldRestart(pod.spec?.restartPolicy, last.exitCode) && !(init && last.exitCode === 0));
    if (restarting && backoff[name] !== undefined) {
      const secs = Math.round(backoff[name] / 1000);
      const m = pod.metadata ?? {};
      return {
        ...base, ...ids, lastState: terminated(last),
        state: waitingState('CrashLoopBackOff', `back-off ${secs}s restarting failed container=${name} pod=${m.name}_${m.namespace}(${m.uid})`),
      };
    }
    if (w) return { ...base, ...ids, lastState: terminated(last), state: waitingState(w.reason, w.message) };
    // A finished init container counts as ready: it did its part (a stopped sidecar does not).
    return { ...base, ...ids, ready: init && !isSidecar(spec) && last.exitCode === 0, lastState, state: terminated(last) };
  }
  return { ...base, ...ids, lastState, state: waitingState(w?.reason ?? defaultReason, w?.message) };
}

/**
 * An ephemeral container's status: waiting (ContainerCreating, or why it cannot start), running,
 * or terminated for good (it is never restarted). Never ready, no `started` (Kubernetes probes
 * neither). An instance lost with an old sandbox keeps its last report; one reported running
 * then is terminated with `ContainerStatusUnknown`, as the kubelet reports a vanished container.
 */
function ephemeralStatusFor(inputs: StatusInputs, spec: EphemeralContainer): K8sContainerStatus {
  const { state, waiting, pod } = inputs;
  const name = spec.name;
  const last = instancesOf(state, name)[0];
  const base = { name, image: spec.image ?? '', imageID: '', ready: false, restartCount: 0, lastState: {} };
  const w = waiting[name];
  if (!last || last.state === 'created' || last.state === 'unknown') {
    const reported = reportedEphemeralStatus(pod, name);
    if (!last && reported?.state?.terminated) return reported;
    if (!last && reported?.state?.running) {
      return {
        ...reported,
        state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: reported.state.running.startedAt } },
      };
    }
    return { ...base, state: waitingState(w?.reason ?? 'ContainerCreating', w?.message) };
  }
  const ids = { imageID: last.imageRef ? `docker-pullable://${last.imageRef}` : '', containerID: `docker://${last.id}` };
  if (last.state === 'running') {
    return { ...base, ...ids, state: { running: { startedAt: last.startedAt ? rfc3339(last.startedAt) : rfc3339(inputs.now) } } };
  }
  return { ...base, ...ids, state: terminated(last) };
}

/**
 * Kubernetes' `getPhase` over the init and app container statuses. Sidecars (init containers
 * with `restartPolicy: Always`) keep the pod Pending until they have started, count as running
 * while they run, and are ignored once stopped: a `Never`/`OnFailure` pod whose app containers
 * are done is Succeeded or Failed when its sidecars have been stopped.
 */
export function podPhase(pod: Pod, statuses: K8sContainerStatus[], initStatuses: K8sContainerStatus[] = []): NonNullable<PodStatus['phase']> {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const initSpecs = new Map((pod.spec?.initContainers ?? []).map((c) => [c.name, c]));
  let pendingInit = 0, failedInit = 0, pendingSidecars = 0;
  let pending = 0, running = 0, stopped = 0, succeeded = 0;
  for (const s of initStatuses) {
    if (isSidecar(initSpecs.get(s.name))) {
      if (s.state?.running) {
        if (!s.started) pendingSidecars++;
        running++;
      } else if (s.state?.terminated) {
        // A stopped sidecar is neither pending nor stopped.
      } else if (s.state?.waiting && !s.lastState?.terminated) {
        pendingSidecars++;
      } else if (!s.state?.waiting) {
        pendingSidecars++;
        pending++;
      }
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting && s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  let appWaiting = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else appWaiting++;
    } else pending++;
  }
  if (statuses.length === 0) return 'Pending';
  // Sidecars still starting keep the pod Pending, unless its app containers have all run already.
  if (pendingInit > 0 || (pendingSidecars > 0 && stopped < statuses.length) || appWaiting > 0) return 'Pending';
  if (running > 0 && pending === 0) return 'Running';
  if (running === 0 && stopped > 0 && pending === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, old: PodCondition[] | undefined, now: Date, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : rfc3339(now);
  return { type, status, lastTransitionTime, ...(reason && !ok ? { reason } : {}), ...(message && !ok ? { message } : {}) };
}

/** The condition types the kubelet writes; any other condition of the pod belongs to someone else. */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/**
 * Why the pod's readiness gates hold its Ready condition back (Kubernetes'
 * `GeneratePodReadyCondition`): each gate names a condition that must exist and be True.
 * Undefined when every gate is satisfied (or there are none).
 */
export function readinessGatesProblem(pod: Pod): string | undefined {
  const msgs: string[] = [];
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = pod.status?.conditions?.find((x) => x.type === g.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  return msgs.length ? msgs.join(', ') : undefined;
}

/** The full status the kubelet reports for a pod. */
export function computePodStatus(inputs: StatusInputs): PodStatus {
  const { pod, state, now } = inputs;
  const old = pod.status ?? {};
  const initSpecs = pod.spec?.initContainers ?? [];
  const initStatuses = initSpecs.map((c) => containerStatusFor(inputs, c, true));
  const statuses = (pod.spec?.containers ?? []).map((c) => containerStatusFor(inputs, c, false));
  const phase = podPhase(pod, statuses, initStatuses);
  const sandbox = currentSandbox(state);
  const podIP = sandbox?.state === 'ready' ? sandbox.ip : '';
  const sidecarStatuses = initStatuses.filter((s) => isSidecar(initSpecs.find((c) => c.name === s.name)));
  const allReady = statuses.length > 0 && [...sidecarStatuses, ...statuses].every((s) => s.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  // Initialized once every init container succeeded and every sidecar started; an app container that ran means it was.
  const incomplete = initStatuses.filter((s, i) => (isSidecar(initSpecs[i]) ? !s.started : !(s.state?.terminated && s.state.terminated.exitCode === 0)))
    .map((s) => s.name);
  const appRan = statuses.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated);
  const initialized = incomplete.length === 0 || appRan;
  const notReady = [...sidecarStatuses, ...statuses].filter((s) => !s.ready).map((s) => s.name);
  const readyMessage = terminal ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
  const scheduled = old.conditions?.find((c) => c.type === 'PodScheduled');
  const gates = readinessGatesProblem(pod);
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandbox?.state === 'ready', old.conditions, now),
    condition('Initialized', initialized, old.conditions, now, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
    allReady && gates
      ? condition('Ready', false, old.conditions, now, 'ReadinessGatesNotReady', gates)
      : condition('Ready', allReady, old.conditions, now, notReadyReason, readyMessage),
    condition('ContainersReady', allReady, old.conditions, now, notReadyReason, readyMessage),
    scheduled ?? condition('PodScheduled', true, old.conditions, now),
    // Conditions other components own (readiness gates, DisruptionTarget...) are kept as they are.
    ...(old.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
  ];
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
    startTime: old.startTime ?? rfc3339(now),
    ...(initSpecs.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(pod.spec?.ephemeralContainers?.length ? { ephemeralContainerStatuses: pod.spec.ephemeralContainers.map((c) => ephemeralStatusFor(inputs, c)) } : {}),
    qosClass: old.qosClass,
  };
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  } else if (terminal && old.podIP) {
    status.podIP = old.podIP;
    status.podIPs = old.podIPs;
  }
  return status;
}
