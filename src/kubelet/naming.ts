/**
 * Names and labels the kubelet puts on runtime objects. Labels are how a restarted kubelet
 * finds what it started before (Kubernetes does the same with `io.kubernetes.*` labels), so
 * they are the source of truth for restart counts and sandbox attempts.
 */
import type { Pod } from '../api/types.js';
import { LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../api/types.js';

export const LABEL_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const LABEL_SANDBOX_ATTEMPT = 'io.kubernetes.sandbox.attempt';
export const LABEL_SANDBOX_ID = 'io.kubernetes.sandbox.id';
export const LABEL_VOLUME_NAME = 'io.kubernetes.volume.name';
/** Grace period recorded at container creation, used when stopping an orphan. */
export const LABEL_GRACE = 'io.kubernetes.pod.terminationGracePeriod';

export interface NodeIdentity {
  cluster: string;
  node: string;
}

export function podLabels(id: NodeIdentity, pod: Pod): Record<string, string> {
  return {
    [LABEL_CLUSTER]: id.cluster,
    [LABEL_NODE]: id.node,
    [LABEL_POD_UID]: pod.metadata?.uid ?? '',
    [LABEL_POD_NAME]: pod.metadata?.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata?.namespace ?? '',
  };
}

/** Docker object names must match `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
const clean = (s: string) => s.replace(/[^a-zA-Z0-9_.-]/g, '-');

export function sandboxName(pod: Pod, attempt: number): string {
  const m = pod.metadata ?? {};
  return clean(`k8s_POD_${m.name}_${m.namespace}_${m.uid}_${attempt}`);
}

export function containerName(pod: Pod, container: string, restartCount: number): string {
  const m = pod.metadata ?? {};
  return clean(`k8s_${container}_${m.name}_${m.namespace}_${m.uid}_${restartCount}`);
}

export function emptyDirVolumeName(id: NodeIdentity, podUid: string, volume: string): string {
  return clean(`mkl_${id.cluster}_${podUid}_${volume}`);
}

/** The Docker network that represents a node. */
export function nodeNetworkName(cluster: string, node: string): string {
  return clean(`mkl-${cluster}-${node}`);
}

export { LABEL_CONTAINER_NAME, LABEL_POD_UID };
