/**
 * The kubelet's planner: from a Pod and what the runtime has for it, compute what to do, as a
 * plain object (Kubernetes' `computePodActions`). Pure, so it carries the unit tests; the
 * kubelet's `syncPod` carries the plan out.
 */
import type { Container, Pod } from '../api/types.js';
import type { ContainerStatus, SandboxStatus } from '../runtime/types.js';
import { restartDelayMs, type BackoffPolicy } from './backoff.js';
import { LABEL_CONTAINER_NAME, LABEL_RESTART_COUNT, LABEL_SANDBOX_ATTEMPT } from './naming.js';

/** What the runtime holds for one pod. */
export interface PodRuntimeState {
  sandboxes: SandboxStatus[];
  containers: ContainerStatus[];
}

export interface ContainerToStart {
  name: string;
  /** The restart count the new instance carries (0 for the first). */
  restartCount: number;
  reason: 'first start' | 'restart' | 'sandbox recreated';
}

export interface PodActions {
  /** Stop and remove every container and sandbox of the pod before anything else. */
  killPod: boolean;
  /** Create a new sandbox with this attempt number. */
  createSandbox: boolean;
  sandboxAttempt: number;
  /** The ready sandbox to start containers in (when not creating one). */
  sandboxId?: string;
  containersToStart: ContainerToStart[];
  /** Containers whose restart is held back: name → ms left. */
  backoff: Record<string, number>;
  /** Exited instances no longer needed (older than the last one per container). */
  containersToRemove: string[];
}

export const restartCountOf = (c: ContainerStatus): number => Number(c.labels[LABEL_RESTART_COUNT] ?? '0') || 0;
export const attemptOf = (s: SandboxStatus): number => Number(s.labels[LABEL_SANDBOX_ATTEMPT] ?? '0') || 0;

/** The instances of one container, newest first. */
export function instancesOf(state: PodRuntimeState, name: string, sandboxId?: string): ContainerStatus[] {
  return state.containers
    .filter((c) => c.labels[LABEL_CONTAINER_NAME] === name && (sandboxId === undefined || c.sandboxId === sandboxId))
    .sort((a, b) => restartCountOf(b) - restartCountOf(a) || b.createdAt.getTime() - a.createdAt.getTime());
}

/** The newest sandbox (highest attempt), if any. */
export function currentSandbox(state: PodRuntimeState): SandboxStatus | undefined {
  return [...state.sandboxes].sort((a, b) => attemptOf(b) - attemptOf(a) || b.createdAt.getTime() - a.createdAt.getTime())[0];
}

/** Whether an exited container is to be restarted under the pod's restartPolicy. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

/**
 * Computes the actions for a pod that is not being deleted.
 * `now` is epoch ms; `backoff` the restart back-off policy.
 */
export function computePodActions(pod: Pod, state: PodRuntimeState, now: number, backoff: BackoffPolicy): PodActions {
  const containers: Container[] = pod.spec?.containers ?? [];
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const sandbox = currentSandbox(state);
  const actions: PodActions = {
    killPod: false, createSandbox: false, sandboxAttempt: 0, containersToStart: [], backoff: {}, containersToRemove: [],
  };

  // The sandbox holds the pod's network namespace: if it is gone or dead, everything restarts in a
  // new one (Kubernetes: "pod sandbox changed, it will be killed and re-created").
  const sandboxOk = sandbox !== undefined && sandbox.state === 'ready' && sandbox.ip !== '';
  if (!sandboxOk) {
    const everStarted = state.containers.length > 0;
    // A pod whose containers all ended for good does not get a new sandbox.
    const allDone = everStarted && containers.every((c) => {
      const last = instancesOf(state, c.name)[0];
      return last !== undefined && last.state === 'exited' && !shouldRestart(policy, last.exitCode);
    });
    if (allDone) return actions;
    actions.killPod = state.sandboxes.length > 0 || state.containers.length > 0;
    actions.createSandbox = true;
    actions.sandboxAttempt = sandbox ? attemptOf(sandbox) + 1 : 0;
    for (const c of containers) {
      const last = instancesOf(state, c.name)[0];
      const restartCount = last ? restartCountOf(last) + 1 : 0;
      actions.containersToStart.push({ name: c.name, restartCount, reason: last ? 'sandbox recreated' : 'first start' });
    }
    return actions;
  }

  actions.sandboxId = sandbox.id;
  for (const c of containers) {
    const all = instancesOf(state, c.name);
    const last = all[0];
    actions.containersToRemove.push(...all.slice(2).map((x) => x.id));
    if (!last) {
      actions.containersToStart.push({ name: c.name, restartCount: 0, reason: 'first start' });
      continue;
    }
    if (last.state === 'running') continue;
    if (last.state === 'created' || last.state === 'unknown') {
      // Created but never started (a kubelet that died mid-start): replace it.
      actions.containersToRemove.push(last.id);
      actions.containersToStart.push({ name: c.name, restartCount: restartCountOf(last), reason: 'first start' });
      continue;
    }
    if (!shouldRestart(policy, last.exitCode)) continue;
    const ran = last.startedAt && last.finishedAt ? last.finishedAt.getTime() - last.startedAt.getTime() : 0;
    const delay = restartDelayMs(backoff, restartCountOf(last), ran);
    const finished = last.finishedAt?.getTime() ?? now;
    const left = finished + delay - now;
    if (left > 0) {
      actions.backoff[c.name] = left;
      continue;
    }
    actions.containersToStart.push({ name: c.name, restartCount: restartCountOf(last) + 1, reason: 'restart' });
  }
  return actions;
}
