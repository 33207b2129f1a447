/**
 * The table rows `kubectl get` prints for pods, nodes and events, computed as kubectl's
 * printers do (`pkg/printers/internalversion/printers.go`): the pod STATUS column (`Init:0/2`,
 * `CrashLoopBackOff`, `Completed`, `Terminating`...), READY `1/2`, RESTARTS `3 (5m ago)`, ages
 * in `duration.HumanDuration` style (`45s`, `3m20s`, `2h5m`, `3d4h`).
 *
 * All functions are pure; the current time is a parameter.
 */
import type { Container, ContainerStatus, Event, Node, Pod, PodStatus } from './types.js';

/** A timestamp as found in objects (RFC 3339 string) or already parsed. */
type Timestamp = string | Date | undefined | null;

function toMillis(t: Timestamp): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A duration the way Kubernetes prints ages, with 2-3 significant figures: `0s`, `45s`, `119s`,
 * `3m20s`, `10m`, `179m`, `3h`, `2h5m`, `47h`, `3d4h`, `45d`, `2y10d`, `9y`. Durations more than
 * a second in the future print `<invalid>` (less is treated as clock skew: `0s`).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Time since `t` as kubectl prints it, or `<unknown>` when `t` is unset. */
export function age(t: Timestamp, now: Date): string {
  const ms = toMillis(t);
  return ms === undefined ? '<unknown>' : humanDuration(now.getTime() - ms);
}

/** One `kubectl get pods` row; the last four are the `-o wide` columns. */
export interface PodRow {
  name: string;
  /** `ready/total`, e.g. `1/2`. */
  ready: string;
  status: string;
  /** `0`, or `3 (5m ago)` once a container has restarted. */
  restarts: string;
  age: string;
  ip: string;
  node: string;
  nominatedNode: string;
  readinessGates: string;
}

const isRestartable = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';
const conditionTrue = (status: PodStatus | undefined, type: string): boolean =>
  (status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/**
 * The row `kubectl get pods` prints for a pod at time `now`. STATUS is, in order of
 * precedence: `Terminating` (deletion requested, phase not final; `Unknown` for pods on a lost
 * node), the reason of the last container that is waiting or terminated (`ContainerCreating`,
 * `ErrImagePull`, `CrashLoopBackOff`, `Completed`, `Error`, `ExitCode:N`, `Signal:N`), an init
 * container's state (`Init:0/2`, `Init:Error`, `Init:CrashLoopBackOff`), `SchedulingGated`,
 * `status.reason` (`Evicted`), else the phase. A pod whose only completed containers sit beside
 * running ones shows `Running`, or `NotReady` without the Ready condition.
 */
export function podRow(pod: Pod, now: Date): PodRow {
  const spec = pod.spec;
  const status = pod.status;
  const inits = spec?.initContainers ?? [];
  const initByName = new Map(inits.map((c) => [c.name, c]));
  const total = (spec?.containers ?? []).length + inits.filter(isRestartable).length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const phase = status?.phase ?? '';
  let reason = status?.reason || phase;
  if ((status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const finishedAt = (cs: ContainerStatus): number => toMillis(cs.lastState?.terminated?.finishedAt) ?? 0;

  let initializing = false;
  const initStatuses = status?.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    restarts += cs.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    const sidecar = isRestartable(initByName.get(cs.name));
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(cs));
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (sidecar && cs.started) {
      if (cs.ready) ready++;
      continue;
    }
    if (terminated) {
      reason = terminated.reason ? `Init:${terminated.reason}`
        : terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${inits.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (cs.ready && cs.state?.running) { hasRunning = true; ready++; }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  if (deleting && status?.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const gates = spec?.readinessGates ?? [];
  const gatesTrue = gates.filter((g) => (status?.conditions ?? []).find((c) => c.type === g.conditionType)?.status === 'True').length;
  return {
    name: pod.metadata?.name ?? '',
    ready: `${ready}/${total}`,
    status: reason,
    restarts: restarts !== 0 && lastRestart !== 0 ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts),
    age: age(pod.metadata?.creationTimestamp, now),
    ip: status?.podIPs?.[0]?.ip || status?.podIP || '<none>',
    node: spec?.nodeName || '<none>',
    nominatedNode: status?.nominatedNodeName || '<none>',
    readinessGates: gates.length ? `${gatesTrue}/${gates.length}` : '<none>',
  };
}

/** One `kubectl get nodes` row; the last five are the `-o wide` columns. */
export interface NodeRow {
  name: string;
  status: string;
  roles: string;
  age: string;
  version: string;
  internalIP: string;
  externalIP: string;
  osImage: string;
  kernelVersion: string;
  containerRuntime: string;
}

/**
 * The row `kubectl get nodes` prints: STATUS `Ready`/`NotReady`/`Unknown` from the Ready
 * condition, plus `,SchedulingDisabled` when cordoned; ROLES from `node-role.kubernetes.io/<role>`
 * and `kubernetes.io/role` labels, sorted, else `<none>`.
 */
export function nodeRow(node: Node, now: Date): NodeRow {
  const readyCond = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const status = [readyCond ? (readyCond.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  const address = (type: string): string => (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';
  const info = node.status?.nodeInfo;
  return {
    name: node.metadata?.name ?? '',
    status: status.join(','),
    roles: roles.size ? [...roles].sort().join(',') : '<none>',
    age: age(node.metadata?.creationTimestamp, now),
    version: info?.kubeletVersion ?? '',
    internalIP: address('InternalIP'),
    externalIP: address('ExternalIP'),
    osImage: info?.osImage || '<unknown>',
    kernelVersion: info?.kernelVersion || '<unknown>',
    containerRuntime: info?.containerRuntimeVersion || '<unknown>',
  };
}

/** One `kubectl get events` row; `subobject` onwards are the `-o wide` columns. */
export interface EventRow {
  lastSeen: string;
  type: string;
  reason: string;
  /** `kind/name` in lower case, e.g. `pod/web-1`. */
  object: string;
  message: string;
  subobject: string;
  source: string;
  firstSeen: string;
  count: number;
  name: string;
}

/**
 * The row `kubectl get events` prints. LAST SEEN falls back to the first timestamp, then to
 * `eventTime`; a series' last observation wins. COUNT is at least 1.
 */
export function eventRow(ev: Event, now: Date): EventRow {
  const first = toMillis(ev.firstTimestamp) !== undefined ? age(ev.firstTimestamp, now) : age(ev.eventTime, now);
  let last = toMillis(ev.lastTimestamp) !== undefined ? age(ev.lastTimestamp, now) : first;
  let count = ev.count ?? 0;
  if (ev.series) {
    last = age(ev.series.lastObservedTime, now);
    count = ev.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const kind = (ev.involvedObject?.kind ?? '').toLowerCase();
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return {
    lastSeen: last,
    type: ev.type ?? '',
    reason: ev.reason ?? '',
    object: ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind,
    message: (ev.message ?? '').trim(),
    subobject: ev.involvedObject?.fieldPath ?? '',
    source: instance ? `${component}, ${instance}` : component,
    firstSeen: first,
    count,
    name: ev.metadata?.name ?? '',
  };
}

/** Pods of a controller by phase, as `kubectl describe rs` counts them. */
export interface PodPhaseCounts {
  running: number;
  /** Pending pods. */
  waiting: number;
  succeeded: number;
  failed: number;
}

/**
 * Counts pods by phase for `Pods Status:` in `kubectl describe` of a ReplicaSet or Deployment.
 * With `controllerUid`, only pods whose controller owner reference has that uid count (as
 * kubectl skips orphans and pods of other controllers). Pods in the Unknown phase are not
 * counted.
 */
export function podPhaseCounts(pods: readonly Pod[], controllerUid?: string): PodPhaseCounts {
  const counts: PodPhaseCounts = { running: 0, waiting: 0, succeeded: 0, failed: 0 };
  for (const pod of pods) {
    if (controllerUid !== undefined && !(pod.metadata?.ownerReferences ?? []).some((o) => o.controller && o.uid === controllerUid)) continue;
    switch (pod.status?.phase) {
      case 'Running': counts.running++; break;
      case 'Pending': counts.waiting++; break;
      case 'Succeeded': counts.succeeded++; break;
      case 'Failed': counts.failed++; break;
      default: break;
    }
  }
  return counts;
}

/** The `Pods Status:` value: `3 Running / 1 Waiting / 0 Succeeded / 0 Failed`. */
export const podsStatusLine = (c: PodPhaseCounts): string =>
  `${c.running} Running / ${c.waiting} Waiting / ${c.succeeded} Succeeded / ${c.failed} Failed`;
