/**
 * Derives a Pod's status from what the runtime reports (Kubernetes `generateAPIPodStatus` and
 * `getPhase`). Pure: the runtime's labels and states are the truth, plus the kubelet's
 * in-memory waiting reasons (image pull errors, mount errors) that the runtime cannot know.
 */
import type { ContainerState as K8sState, ContainerStatus as K8sContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import type { ContainerStatus } from '../runtime/types.js';
import { currentSandbox, instancesOf, restartCountOf, shouldRestart, type PodRuntimeState } from './plan.js';

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

function containerStatusFor(inputs: StatusInputs, name: string, image: string): K8sContainerStatus {
  const { state, waiting, backoff, pod } = inputs;
  const sandbox = currentSandbox(state);
  const all = instancesOf(state, name);
  const last = all[0];
  const base = { name, image, imageID: '', ready: false, restartCount: last ? restartCountOf(last) : 0, started: false };
  const w = waiting[name];
  if (!last) {
    return { ...base, state: { waiting: { reason: w?.reason ?? 'ContainerCreating', ...(w?.message ? { message: w.message } : {}) } } };
  }
  const ids = { imageID: last.imageRef ? `docker-pullable://${last.imageRef}` : '', containerID: `docker://${last.id}` };
  const previous = all.find((c) => c !== last && c.state === 'exited');
  const lastState: K8sState = previous ? terminated(previous) : {};
  const inCurrentSandbox = sandbox !== undefined && last.sandboxId === sandbox.id;
  if (last.state === 'running' && inCurrentSandbox && sandbox.state === 'ready') {
    return {
      ...base, ...ids, ready: true, started: true, lastState,
      state: { running: { startedAt: last.startedAt ? rfc3339(last.startedAt) : rfc3339(inputs.now) } },
    };
  }
  if (last.state === 'exited') {
    const restarting = shouldRestart(pod.spec?.restartPolicy, last.exitCode);
    if (restarting && backoff[name] !== undefined) {
      const secs = Math.round(backoff[name] / 1000);
      const m = pod.metadata ?? {};
      return {
        ...base, ...ids, lastState: terminated(last),
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${secs}s restarting failed container=${name} pod=${m.name}_${m.namespace}(${m.uid})` } },
      };
    }
    if (w) return { ...base, ...ids, lastState: terminated(last), state: { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } } };
    return { ...base, ...ids, lastState, state: terminated(last) };
  }
  return { ...base, ...ids, lastState, state: { waiting: { reason: w?.reason ?? 'ContainerCreating', ...(w?.message ? { message: w.message } : {}) } } };
}

/** Kubernetes' `getPhase` over the container statuses. */
export function podPhase(pod: Pod, statuses: K8sContainerStatus[]): NonNullable<PodStatus['phase']> {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pending = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else pending++;
  }
  const unknown = statuses.length === 0;
  if (unknown) return 'Pending';
  if (waiting > 0 || pending > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, old: PodCondition[] | undefined, now: Date, reason?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : rfc3339(now);
  return { type, status, lastTransitionTime, ...(reason && !ok ? { reason } : {}) };
}

/** The full status the kubelet reports for a pod. */
export function computePodStatus(inputs: StatusInputs): PodStatus {
  const { pod, state, now } = inputs;
  const old = pod.status ?? {};
  const statuses = (pod.spec?.containers ?? []).map((c) => containerStatusFor(inputs, c.name, c.image ?? ''));
  const phase = podPhase(pod, statuses);
  const sandbox = currentSandbox(state);
  const podIP = sandbox?.state === 'ready' ? sandbox.ip : '';
  const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const scheduled = old.conditions?.find((c) => c.type === 'PodScheduled');
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandbox?.state === 'ready', old.conditions, now),
    condition('Initialized', true, old.conditions, now),
    condition('Ready', allReady, old.conditions, now, notReadyReason),
    condition('ContainersReady', allReady, old.conditions, now, notReadyReason),
    scheduled ?? condition('PodScheduled', true, old.conditions, now),
  ];
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  for (const c of conditions) {
    if ((c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'False' && !terminal) {
      c.message = `containers with unready status: [${notReady.join(' ')}]`;
    }
  }
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
    startTime: old.startTime ?? rfc3339(now),
    containerStatuses: statuses,
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
