/**
 * The kubelet's planner: from a Pod, what the runtime has for it and the probes' verdicts,
 * compute what to do, as a plain object (Kubernetes' `computePodActions`). Pure, so it carries
 * the unit tests; the kubelet's `syncPod` carries the plan out.
 *
 * Init containers run one at a time, in order, each to completion, inside the current sandbox;
 * app containers start only when all of them succeeded there. A new sandbox runs them again.
 * Native sidecars (init containers with `restartPolicy: Always`, Kubernetes 1.29+) start in
 * their place in that order, and the next init container starts once the sidecar has started
 * (its startup probe passed, or it has none); they then keep running beside the app containers,
 * are restarted with back-off whatever the pod's restartPolicy, and are stopped once the app
 * containers of a `Never`/`OnFailure` pod have all ended for good. Ephemeral containers (added
 * through the `ephemeralcontainers` subresource) start once in the running sandbox, whatever
 * the init containers do, and are never restarted.
 */
import type { Container, ContainerStatus as K8sContainerStatus, Pod } from '../api/types.js';
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
  /** An init container (runs to completion before the app containers start). */
  init: boolean;
  /** An ephemeral container (started once in the running sandbox, never restarted). */
  ephemeral?: true;
  /** The restart count the new instance carries (0 for the first). */
  restartCount: number;
  reason: 'first start' | 'restart' | 'sandbox recreated' | 'failed liveness probe' | 'failed startup probe';
}

/** A running container to stop (and keep, for its status and logs) before anything starts. */
export interface ContainerToKill {
  id: string;
  name: string;
  /**
   * Why: a failed probe, a sandbox that died under a pod that may not restart, or a sidecar
   * whose pod's app containers are done.
   */
  cause: 'liveness' | 'startup' | 'sandbox' | 'completed';
  /** The `Killing` event's message, e.g. `Container web failed liveness probe, will be restarted`. */
  message: string;
}

/** Containers whose liveness or startup probe failed, by container id. */
export type ProbeFailures = Readonly<Record<string, 'liveness' | 'startup'>>;

/**
 * Extra copies of a pod in the runtime, whoever made them (a second kubelet of the node, a
 * kubelet killed between create and record): at most one sandbox and one instance per container
 * name may run after a sync, so these are stopped and removed first, each with a `Killing` event.
 */
export interface Duplicates {
  /** Running or created instances of a container beyond the one kept, and every container of an extra sandbox. */
  containers: { id: string; name: string; running: boolean; message: string }[];
  /** Ready sandboxes other than the current one. */
  sandboxes: { id: string; message: string }[];
}

export interface PodActions {
  /** Duplicates to stop and remove before anything else. */
  duplicates: Duplicates;
  /**
   * Stop every running container and ready sandbox of the pod before anything else (Kubernetes'
   * `killPodWithSyncResult`). Nothing is removed here: the stopped instances keep the restart
   * counts and sandbox attempts the next ones are numbered from, and their removal is the
   * garbage collection below, whose failures never hold back the new sandbox.
   */
  killPod: boolean;
  /** Create a new sandbox with this attempt number. */
  createSandbox: boolean;
  sandboxAttempt: number;
  /** The ready sandbox to start containers in (when not creating one). */
  sandboxId?: string;
  containersToKill: ContainerToKill[];
  /** In order; at most one init container, and then no app container. */
  containersToStart: ContainerToStart[];
  /** Containers whose restart is held back: name → ms left. */
  backoff: Record<string, number>;
  /** Exited instances no longer needed (older than the last two per container). */
  containersToRemove: string[];
  /**
   * Stopped sandboxes older than the current ready one that no kept container belongs to
   * (Kubernetes' container GC removes such sandboxes).
   */
  sandboxesToRemove: string[];
}

/** Whether an init container is a native sidecar (`restartPolicy: Always`). */
export const isSidecar = (c: Pick<Container, 'restartPolicy'> | undefined): boolean => c?.restartPolicy === 'Always';

/** A pod's sidecars, in spec order. */
export const sidecarsOf = (pod: Pod): Container[] => (pod.spec?.initContainers ?? []).filter(isSidecar);

export const restartCountOf = (c: ContainerStatus): number => Number(c.labels[LABEL_RESTART_COUNT] ?? '0') || 0;
export const attemptOf = (s: SandboxStatus): number => Number(s.labels[LABEL_SANDBOX_ATTEMPT] ?? '0') || 0;

/** The instances of one container, newest first (only those in `sandboxId` when given). */
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

/** The status the API server holds for a container (from an earlier report). */
export function reportedStatus(pod: Pod, name: string, init: boolean): K8sContainerStatus | undefined {
  return ((init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? []).find((s) => s.name === name);
}

/** The status the API server holds for an ephemeral container (from an earlier report). */
export function reportedEphemeralStatus(pod: Pod, name: string): K8sContainerStatus | undefined {
  return (pod.status?.ephemeralContainerStatuses ?? []).find((s) => s.name === name);
}

/**
 * Whether an ephemeral container has been started already: the runtime has an instance of it,
 * or an earlier report shows it ran (its instance was removed with an old sandbox). Ephemeral
 * containers run at most once.
 */
export function ephemeralStarted(pod: Pod, state: PodRuntimeState, name: string): boolean {
  if (instancesOf(state, name).some((c) => c.state === 'running' || c.state === 'exited')) return true;
  const reported = reportedEphemeralStatus(pod, name);
  return reported?.state?.running !== undefined || reported?.state?.terminated !== undefined;
}

/**
 * The restart count of a container's next instance: one more than its newest instance's; or,
 * when the runtime lost the instance last reported (removed behind the kubelet's back — older,
 * stopped instances may remain, e.g. in the sandbox before an engine restart), one more than the
 * count reported for it, if that is higher; else 0.
 */
export function nextRestartCount(pod: Pod, state: PodRuntimeState, name: string, init: boolean): number {
  const last = instancesOf(state, name)[0];
  const fromRuntime = last ? restartCountOf(last) + 1 : 0;
  const reported = reportedStatus(pod, name, init);
  const id = reported?.containerID?.replace(/^[a-z]+:\/\//, '') ?? '';
  const lost = id !== '' && !state.containers.some((c) => c.id === id);
  return lost ? Math.max(fromRuntime, (reported?.restartCount ?? 0) + 1) : fromRuntime;
}

/** Whether every app container of the pod ended and may not restart under its restartPolicy. */
export function appContainersDone(pod: Pod, state: PodRuntimeState): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const containers = pod.spec?.containers ?? [];
  return containers.length > 0 && containers.every((c) => {
    const last = instancesOf(state, c.name)[0];
    return last !== undefined && last.state === 'exited' && !shouldRestart(policy, last.exitCode);
  });
}

/** Whether nothing of the pod will run again: its app containers all ended for good, or an init container failed under `Never`. */
function podFinished(pod: Pod, state: PodRuntimeState): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (state.containers.length === 0) return false;
  const initFailed = (pod.spec?.initContainers ?? []).some((c) => {
    const last = instancesOf(state, c.name)[0];
    return !isSidecar(c) && policy === 'Never' && last?.state === 'exited' && last.exitCode !== 0;
  });
  return initFailed || appContainersDone(pod, state);
}

/** Back-off left before an exited instance may be followed by another (0 = now). */
function backoffLeft(last: ContainerStatus, now: number, backoff: BackoffPolicy): number {
  const ran = last.startedAt && last.finishedAt ? last.finishedAt.getTime() - last.startedAt.getTime() : 0;
  const delay = restartDelayMs(backoff, restartCountOf(last), ran);
  return (last.finishedAt?.getTime() ?? now) + delay - now;
}

const shortId = (id: string) => id.slice(0, 12);

/**
 * Finds the pod's duplicates: every ready sandbox but the current one (with all its containers),
 * and in the current sandbox, per container name, every running instance but the newest and
 * every never-started (created/unknown) instance when one runs or a newer one exists. Returns
 * them and the state without them, which the rest of the plan reads.
 */
export function findDuplicates(pod: Pod, state: PodRuntimeState): { duplicates: Duplicates; rest: PodRuntimeState } {
  const current = currentSandbox(state);
  const duplicates: Duplicates = { containers: [], sandboxes: [] };
  const extraSandboxes = new Set(state.sandboxes.filter((s) => s !== current && s.state === 'ready').map((s) => s.id));
  for (const id of extraSandboxes) duplicates.sandboxes.push({ id, message: `Stopping duplicate pod sandbox ${shortId(id)} (the pod keeps ${shortId(current?.id ?? '')})` });
  const gone = new Set<string>();
  for (const c of state.containers) {
    if (!extraSandboxes.has(c.sandboxId)) continue;
    const name = c.labels[LABEL_CONTAINER_NAME] ?? '';
    duplicates.containers.push({ id: c.id, name, running: c.state === 'running', message: `Stopping container ${name} of duplicate pod sandbox ${shortId(c.sandboxId)}` });
    gone.add(c.id);
  }
  if (current) {
    // A running container outside the current sandbox runs in a dead network namespace: it goes too.
    for (const c of state.containers) {
      if (gone.has(c.id) || c.sandboxId === current.id || c.state !== 'running') continue;
      const name = c.labels[LABEL_CONTAINER_NAME] ?? '';
      duplicates.containers.push({ id: c.id, name, running: true, message: `Stopping container ${name} left running in old pod sandbox ${shortId(c.sandboxId)}` });
      gone.add(c.id);
    }
    for (const spec of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
      const mine = instancesOf(state, spec.name, current.id).filter((c) => !gone.has(c.id));
      const running = mine.filter((c) => c.state === 'running');
      for (const c of running.slice(1)) {
        duplicates.containers.push({ id: c.id, name: spec.name, running: true, message: `Stopping duplicate container ${spec.name} ${shortId(c.id)} (the pod keeps ${shortId(running[0].id)})` });
        gone.add(c.id);
      }
      mine.forEach((c, i) => {
        if ((c.state === 'created' || c.state === 'unknown') && (running.length > 0 || i > 0)) {
          duplicates.containers.push({ id: c.id, name: spec.name, running: false, message: `Removing never-started duplicate container ${spec.name} ${shortId(c.id)}` });
          gone.add(c.id);
        }
      });
    }
  }
  const rest = { sandboxes: state.sandboxes.filter((s) => !extraSandboxes.has(s.id)), containers: state.containers.filter((c) => !gone.has(c.id)) };
  return { duplicates, rest };
}

/**
 * Computes the actions for a pod that is not being deleted. `now` is epoch ms; `backoff` the
 * restart back-off policy; `probeFailures` the running containers whose liveness or startup
 * probe failed; `startupPassed` the running containers (by id) whose startup probe succeeded,
 * which is what lets the init container after a sidecar that has a startup probe start.
 */
export function computePodActions(
  pod: Pod, observed: PodRuntimeState, now: number, backoff: BackoffPolicy, probeFailures: ProbeFailures = {},
  startupPassed: ReadonlySet<string> = new Set(),
): PodActions {
  const actions = planContainers(pod, observed, now, backoff, probeFailures, startupPassed);
  if (actions.sandboxId) {
    // An ended ephemeral container of an older sandbox is not started again (its report says it
    // ran): it only keeps that sandbox from being collected.
    const ephemeral = new Set((pod.spec?.ephemeralContainers ?? []).map((e) => e.name));
    for (const c of observed.containers) {
      if (ephemeral.has(c.labels[LABEL_CONTAINER_NAME] ?? '') && c.sandboxId !== actions.sandboxId && c.state === 'exited' && !actions.containersToRemove.includes(c.id)) {
        actions.containersToRemove.push(c.id);
      }
    }
    const removed = new Set([...actions.containersToRemove, ...actions.duplicates.containers.map((c) => c.id)]);
    const used = new Set(observed.containers.filter((c) => !removed.has(c.id)).map((c) => c.sandboxId));
    const extra = new Set(actions.duplicates.sandboxes.map((s) => s.id));
    actions.sandboxesToRemove = observed.sandboxes
      .filter((s) => s.id !== actions.sandboxId && s.state !== 'ready' && !used.has(s.id) && !extra.has(s.id))
      .map((s) => s.id);
  }
  return actions;
}

function planContainers(
  pod: Pod, observed: PodRuntimeState, now: number, backoff: BackoffPolicy, probeFailures: ProbeFailures,
  startupPassed: ReadonlySet<string>,
): PodActions {
  const { duplicates, rest: state } = findDuplicates(pod, observed);
  const inits: Container[] = pod.spec?.initContainers ?? [];
  const containers: Container[] = pod.spec?.containers ?? [];
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const sandbox = currentSandbox(state);
  const actions: PodActions = {
    duplicates, killPod: false, createSandbox: false, sandboxAttempt: 0, containersToKill: [], containersToStart: [], backoff: {}, containersToRemove: [],
    sandboxesToRemove: [],
  };
  const start = (c: Container, init: boolean, reason?: ContainerToStart['reason']) => {
    const restartCount = nextRestartCount(pod, state, c.name, init);
    actions.containersToStart.push({ name: c.name, init, restartCount, reason: reason ?? (restartCount > 0 ? 'restart' : 'first start') });
  };

  // The sandbox holds the pod's network namespace: if it is gone or dead, everything restarts in a
  // new one (Kubernetes: "pod sandbox changed, it will be killed and re-created").
  const sandboxOk = sandbox !== undefined && sandbox.state === 'ready' && sandbox.ip !== '';
  if (!sandboxOk) {
    if (podFinished(pod, state)) return actions;
    if (policy === 'Never' && state.containers.length > 0) {
      // A pod that may not restart gets no second sandbox: what still runs is stopped, and the
      // exit codes decide its phase.
      for (const c of state.containers.filter((x) => x.state === 'running')) {
        const name = c.labels[LABEL_CONTAINER_NAME] ?? '';
        actions.containersToKill.push({ id: c.id, name, cause: 'sandbox', message: `Stopping container ${name}` });
      }
      return actions;
    }
    actions.killPod = state.sandboxes.length > 0 || state.containers.length > 0;
    actions.createSandbox = true;
    actions.sandboxAttempt = sandbox ? attemptOf(sandbox) + 1 : 0;
    const recreated = (c: Container) => (instancesOf(state, c.name)[0] ? 'sandbox recreated' : undefined);
    if (inits.length) start(inits[0], true, recreated(inits[0]));
    else for (const c of containers) start(c, false, recreated(c));
    return actions;
  }

  actions.sandboxId = sandbox.id;
  for (const c of [...inits, ...containers]) actions.containersToRemove.push(...instancesOf(state, c.name).slice(2).map((x) => x.id));

  // A running container whose liveness or startup probe failed is killed; `restart` says whether
  // a new instance follows at once.
  const killFailed = (c: Container, last: ContainerStatus, init: boolean, restart: boolean): boolean => {
    const failed = probeFailures[last.id];
    if (!failed) return false;
    actions.containersToKill.push({
      id: last.id, name: c.name, cause: failed, message: `Container ${c.name} failed ${failed} probe${restart ? ', will be restarted' : ''}`,
    });
    if (restart) start(c, init, failed === 'liveness' ? 'failed liveness probe' : 'failed startup probe');
    return true;
  };
  // Restarts an exited container once its back-off is over.
  const restartAfterBackoff = (c: Container, last: ContainerStatus, init: boolean) => {
    const left = backoffLeft(last, now, backoff);
    if (left > 0) actions.backoff[c.name] = left;
    else start(c, init, 'restart');
  };
  const replaceUnstarted = (c: Container, last: ContainerStatus, init: boolean) => {
    // Created but never started (a kubelet that died mid-start): replace it.
    actions.containersToRemove.push(last.id);
    actions.containersToStart.push({ name: c.name, init, restartCount: restartCountOf(last), reason: 'first start' });
  };

  // Ephemeral containers start once the sandbox runs, before init containers (so that a pod stuck
  // in an init container can be debugged), and are never restarted (Kubernetes' step 6).
  for (const ec of pod.spec?.ephemeralContainers ?? []) {
    const last = instancesOf(state, ec.name)[0];
    if (last && (last.state === 'created' || last.state === 'unknown')) {
      actions.containersToRemove.push(last.id);
    } else if (ephemeralStarted(pod, state, ec.name)) continue;
    actions.containersToStart.push({ name: ec.name, init: false, ephemeral: true, restartCount: 0, reason: 'first start' });
  }

  // Init containers, in order, in this sandbox; an app container that ran here means they are done.
  const appStarted = containers.some((c) => instancesOf(state, c.name, sandbox.id).length > 0);
  if (!appStarted) {
    for (const c of inits) {
      const last = instancesOf(state, c.name, sandbox.id)[0];
      if (!last) {
        start(c, true);
        return actions;
      }
      if (last.state === 'created' || last.state === 'unknown') {
        replaceUnstarted(c, last, true);
        return actions;
      }
      if (isSidecar(c)) {
        if (last.state === 'running') {
          if (killFailed(c, last, true, true)) return actions;
          // The next init container waits until this sidecar has started.
          if (c.startupProbe && !startupPassed.has(last.id)) return actions;
          continue;
        }
        restartAfterBackoff(c, last, true);
        return actions;
      }
      if (last.state === 'running') return actions;
      if (last.exitCode === 0) continue;
      if (!shouldRestart(policy, last.exitCode)) return actions;
      restartAfterBackoff(c, last, true);
      return actions;
    }
  } else {
    // Sidecars keep running beside the app containers, until those are done for good.
    const done = appContainersDone(pod, state);
    for (const c of inits.filter(isSidecar)) {
      const last = instancesOf(state, c.name, sandbox.id)[0];
      if (done) {
        if (last?.state === 'running') {
          actions.containersToKill.push({ id: last.id, name: c.name, cause: 'completed', message: `Stopping container ${c.name}` });
        }
        continue;
      }
      if (!last) start(c, true);
      else if (last.state === 'created' || last.state === 'unknown') replaceUnstarted(c, last, true);
      else if (last.state === 'running') killFailed(c, last, true, true);
      else restartAfterBackoff(c, last, true);
    }
  }

  for (const c of containers) {
    const last = instancesOf(state, c.name)[0];
    if (!last) {
      start(c, false);
      continue;
    }
    if (last.state === 'running') {
      killFailed(c, last, false, policy !== 'Never');
      continue;
    }
    if (last.state === 'created' || last.state === 'unknown') {
      replaceUnstarted(c, last, false);
      continue;
    }
    if (!shouldRestart(policy, last.exitCode)) continue;
    restartAfterBackoff(c, last, false);
  }
  return actions;
}
