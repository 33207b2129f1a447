/**
 * kube-scheduler's VolumeBinding plugin in miniature, as a pure check on a pod's claims before
 * any node is filtered (its PreFilter): a missing or terminating claim, or an unbound claim whose
 * class binds immediately, keeps the pod unschedulable with Kubernetes' reason; unbound claims
 * of `WaitForFirstConsumer` classes are returned, so that, once a node is chosen, the scheduler
 * marks them with `volume.kubernetes.io/selected-node` and waits for them to be bound (its
 * PreBind) before binding the pod.
 */
import type { NodeSelector, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { FIT_OK, unschedulable, type FilterPlugin } from './framework.js';
import { matchesTerm } from './plugins.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Pod } from '../api/types.js';

export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const VOLUME_NODE_AFFINITY_CONFLICT = 'node(s) had volume node affinity conflict';

export type ClaimCheck =
  | {
    ok: true;
    /** Unbound delayed-binding claims to provision for the chosen node. */
    delayed: string[];
    /** The node affinities of the bound claims' volumes (`local` PVs): the node must match each. */
    nodeAffinity: NodeSelector[];
  }
  | { ok: false; reason: string };

/** Whether the claim has a volume (the PV controller sets `spec.volumeName` and phase Bound). */
export const claimBound = (pvc: PersistentVolumeClaim): boolean => !!pvc.spec?.volumeName && pvc.status?.phase === 'Bound';

/** The pod's claims, checked against the claims and classes the scheduler knows. */
export function checkPodClaims(pod: Pod, claim: (name: string) => PersistentVolumeClaim | undefined, storageClass: (name: string) => StorageClass | undefined,
  volume: (name: string) => PersistentVolume | undefined = () => undefined): ClaimCheck {
  const delayed: string[] = [];
  const nodeAffinity: NodeSelector[] = [];
  let immediate = false;
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName;
    if (name === undefined) continue;
    const pvc = claim(name);
    if (!pvc) return { ok: false, reason: `persistentvolumeclaim ${JSON.stringify(name)} not found` };
    if (pvc.metadata?.deletionTimestamp) return { ok: false, reason: `persistentvolumeclaim ${JSON.stringify(name)} is being deleted` };
    if (claimBound(pvc)) {
      const required = volume(pvc.spec?.volumeName ?? '')?.spec?.nodeAffinity?.required;
      if (required) nodeAffinity.push(required);
      continue;
    }
    const className = pvc.spec?.storageClassName ?? '';
    const sc = className ? storageClass(className) : undefined;
    if (className && !sc) return { ok: false, reason: `storageclass.storage.k8s.io ${JSON.stringify(className)} not found` };
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer') delayed.push(name);
    else immediate = true;
  }
  if (immediate) return { ok: false, reason: UNBOUND_IMMEDIATE };
  return { ok: true, delayed, nodeAffinity };
}

/** The VolumeBinding filter for one pod: nodes outside its volumes' node affinity do not fit. */
export function volumeNodeAffinityFilter(selectors: readonly NodeSelector[]): FilterPlugin {
  return {
    name: 'VolumeBinding',
    filter: (_pod, info) => (selectors.every((sel) => (sel.nodeSelectorTerms ?? []).some((t) => matchesTerm(info.node, t)))
      ? FIT_OK : unschedulable(VOLUME_NODE_AFFINITY_CONFLICT)),
  };
}

/** The FitError message of a pod refused before filtering: `0/2 nodes are available: <reason>.` */
export const preFilterMessage = (numAllNodes: number, reason: string): string => `0/${numAllNodes} nodes are available: ${reason}.`;
