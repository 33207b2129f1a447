/**
 * The DaemonSet controller's planner (Kubernetes' `pkg/controller/daemon`: `podsShouldBeOnNode`,
 * `manage`, `rollingUpdate`, `updateDaemonSetStatus`), without I/O: which nodes should run a
 * daemon pod — decided by the scheduler's own NodeAffinity and TaintToleration filters
 * (`src/scheduler/plugins.ts`) on the pod with the default DaemonSet tolerations — and so which
 * pods to create and delete, including the rolling update (maxUnavailable / maxSurge), and the
 * status counts.
 */
import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { Node, Pod } from '../api/types.js';
import { newNodeInfo } from '../scheduler/framework.js';
import { effectiveTaints, nodeAffinity, taintToleration, toleratesTaint } from '../scheduler/plugins.js';
import { CONTROLLER_REVISION_HASH } from './history.js';
import { isPodAvailable, isPodReady, newControllerRef, sortPodsForDeletion, timeMs } from './podutil.js';
import type { PodObject } from './types.js';

/** The pod label with the DaemonSet's template generation (beside `controller-revision-hash`). */
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';

/**
 * The tolerations every DaemonSet pod gets (`AddOrUpdateDaemonPodTolerations`): it stays on
 * not-ready and unreachable nodes, and runs despite disk, memory and PID pressure and a cordon;
 * a host-network pod also despite an unavailable network.
 */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** The template's tolerations plus the default ones it does not already have. */
function withDefaultTolerations(own: readonly Toleration[] | undefined, hostNetwork: boolean): Toleration[] {
  const out = [...(own ?? [])];
  for (const d of daemonPodTolerations(hostNetwork)) {
    if (!out.some((t) => t.key === d.key && t.effect === d.effect && t.operator === d.operator)) out.push(d);
  }
  return out;
}

/**
 * The pod the DaemonSet creates on `node` (`NewPod` + `ReplaceDaemonSetPodNodeNameNodeAffinity`):
 * its template with the revision hash and template generation labels, the default
 * tolerations, and required node affinity for exactly that node (the scheduler binds it).
 */
export function daemonPodFor(ds: DaemonSet, node: string, hash: string, generation: string): PodObject {
  const t = structuredClone(ds.spec?.template ?? {});
  const spec = t.spec ?? { containers: [] };
  spec.tolerations = withDefaultTolerations(spec.tolerations, !!spec.hostNetwork);
  spec.affinity = {
    ...(spec.affinity ?? {}),
    nodeAffinity: {
      ...(spec.affinity?.nodeAffinity ?? {}),
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] },
    },
  };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata?.name ?? ''}-`,
      namespace: ds.metadata?.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash, [POD_TEMPLATE_GENERATION]: generation },
      ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
      ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
    },
    spec,
  };
}

/** The node a daemon pod is for: its binding, else the node its required affinity names. */
export function daemonPodNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * Whether the DaemonSet should run on the node (`NodeShouldRunDaemonPod`): `shouldRun` — the
 * scheduler's NodeAffinity and TaintToleration filters pass for its pod; `shouldContinue` — a
 * pod already there may stay (affinity holds and no untolerated NoExecute taint).
 */
export function nodeShouldRunDaemonPod(ds: DaemonSet, node: Node): { shouldRun: boolean; shouldContinue: boolean } {
  const pod = daemonPodFor(ds, node.metadata?.name ?? '', '', '');
  const info = newNodeInfo(node, []);
  if (!nodeAffinity.filter(pod, info).ok) return { shouldRun: false, shouldContinue: false };
  const tolerations = pod.spec?.tolerations ?? [];
  const untoleratedNoExecute = effectiveTaints(node).some((t: Taint) => t.effect === 'NoExecute' && !tolerations.some((x) => toleratesTaint(x, t)));
  return { shouldRun: taintToleration.filter(pod, info).ok, shouldContinue: !untoleratedNoExecute };
}

/** An int-or-percent of `total`, rounded up (`GetScaledValueFromIntOrPercent(…, true)`). */
export function scaled(v: number | string | undefined, total: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) return Math.ceil((Number(v.slice(0, -1)) * total) / 100);
  return 0;
}

export interface DaemonSetPlan {
  /** Nodes to create a pod on. */
  create: string[];
  delete: PodObject[];
  status: DaemonSetStatus;
  /** Look again when a pod will have been ready for minReadySeconds, if set. */
  requeueAfterMs?: number;
}

/**
 * Plans one sync of `ds` over all nodes and the pods it controls, with the current revision's
 * `hash` (pods with another hash are old). `manage` false (expectations unmet): status only.
 */
export function planDaemonSet(ds: DaemonSet, nodes: readonly Node[], pods: readonly PodObject[], hash: string, now: Date, manage = true): DaemonSetPlan {
  const nowMs = now.getTime();
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const byNode = new Map<string, PodObject[]>();
  for (const p of live) {
    const n = daemonPodNode(p) ?? '';
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const create: string[] = [];
  const del: PodObject[] = [];
  let desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  /** Per node that should run: its (single kept) pod, if any. */
  const kept = new Map<string, PodObject | undefined>();
  const nodeNames = new Set(nodes.map((n) => n.metadata?.name ?? ''));
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const { shouldRun, shouldContinue } = nodeShouldRunDaemonPod(ds, node);
    const here = byNode.get(name) ?? [];
    // Failed daemon pods are deleted and replaced (`Failed` → new pod).
    const failed = here.filter((p) => p.status?.phase === 'Failed');
    del.push(...failed);
    const running = here.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    if (shouldRun) desired++;
    if ((shouldRun || shouldContinue) && running.length > 0 && shouldContinue) {
      if (shouldRun) current++;
      else misscheduled++;
      // Keep the oldest; more than one per node are surplus (unless a surge is in progress).
      const sorted = [...running].sort((a, b) => (timeMs(a.metadata?.creationTimestamp) ?? 0) - (timeMs(b.metadata?.creationTimestamp) ?? 0));
      const surge = ds.spec?.updateStrategy?.type === 'RollingUpdate' && scaled(ds.spec.updateStrategy.rollingUpdate?.maxSurge as number | string | undefined, 1) > 0;
      const newOnes = sorted.filter((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH] === hash);
      const oldOnes = sorted.filter((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH] !== hash);
      if (surge && newOnes.length >= 1 && oldOnes.length >= 1) {
        // A surge pair: the old one goes once the new one is available (below).
        kept.set(name, newOnes[0]);
        del.push(...newOnes.slice(1), ...oldOnes.slice(1));
        if (isPodAvailable(newOnes[0], minReady, nowMs)) del.push(oldOnes[0]);
        else kept.set(name, oldOnes[0]);
      } else {
        kept.set(name, sorted[0]);
        del.push(...sorted.slice(1));
      }
    } else if (running.length > 0) {
      misscheduled++;
      del.push(...running);
    } else if (shouldRun) {
      kept.set(name, undefined);
      create.push(name);
    }
  }
  // Pods for nodes that no longer exist.
  for (const [n, ps] of byNode) if (!nodeNames.has(n)) del.push(...ps);

  // Rolling update.
  const strategy = ds.spec?.updateStrategy;
  if (strategy?.type !== 'OnDelete') {
    const ru = strategy?.rollingUpdate;
    let maxUnavailable = scaled(ru?.maxUnavailable as number | string | undefined, desired);
    const maxSurge = scaled(ru?.maxSurge as number | string | undefined, desired);
    if (maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const entries = [...kept.entries()];
    const isOld = (p: PodObject | undefined) => p !== undefined && p.metadata?.labels?.[CONTROLLER_REVISION_HASH] !== hash;
    if (maxSurge === 0) {
      let unavailable = entries.filter(([, p]) => !p || !isPodAvailable(p, minReady, nowMs)).length;
      // Old pods that are unavailable anyway go first, without counting against the budget.
      const oldUnavailable = entries.filter(([, p]) => isOld(p) && !isPodAvailable(p as PodObject, minReady, nowMs)).map(([, p]) => p as PodObject);
      const oldAvailable = entries.filter(([, p]) => isOld(p) && isPodAvailable(p as PodObject, minReady, nowMs)).map(([, p]) => p as PodObject);
      del.push(...oldUnavailable);
      for (const p of sortPodsForDeletion(oldAvailable, () => 0, nowMs)) {
        if (unavailable >= maxUnavailable) break;
        del.push(p);
        unavailable++;
      }
    } else {
      // Surge: start a new pod beside an old one, at most maxSurge at once.
      let surging = entries.filter(([n]) => (byNode.get(n) ?? []).filter((p) => p.status?.phase !== 'Failed').length > 1).length;
      for (const [n, p] of entries) {
        if (surging >= maxSurge) break;
        if (!isOld(p)) continue;
        const here = byNode.get(n) ?? [];
        if (here.some((x) => x.metadata?.labels?.[CONTROLLER_REVISION_HASH] === hash)) continue;
        create.push(n);
        surging++;
      }
    }
  }

  // Status.
  let requeueAfterMs: number | undefined;
  for (const [, p] of kept) {
    if (!p || del.includes(p)) continue;
    if (isPodReady(p)) ready++;
    if (p.metadata?.labels?.[CONTROLLER_REVISION_HASH] === hash) updated++;
    if (isPodAvailable(p, minReady, nowMs)) available++;
    else if (isPodReady(p) && minReady > 0) requeueAfterMs = minReady * 1000;
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current, numberMisscheduled: misscheduled, desiredNumberScheduled: desired, numberReady: ready,
    updatedNumberScheduled: updated, numberAvailable: available, numberUnavailable: Math.max(0, desired - available),
    ...(ds.metadata?.generation ? { observedGeneration: ds.metadata.generation } : {}),
  };
  if (!status.updatedNumberScheduled) delete status.updatedNumberScheduled;
  if (!status.numberAvailable) delete status.numberAvailable;
  if (!status.numberUnavailable) delete status.numberUnavailable;
  if (!manage) return { create: [], delete: [], status, requeueAfterMs };
  return { create, delete: [...new Set(del)], status, requeueAfterMs };
}
