/**
 * Reads what `trace` prints: a pod's timeline, or the tree Deployment → ReplicaSets → pods with
 * each pod's timeline, through the API (list by owner uid, traces by the pod-uid label).
 */
import { ApiError } from '../api/errors.js';
import type { KubeObject, Pod } from '../api/types.js';
import { PODS, type ApiClient, type ResourceRef } from '../client/client.js';
import { DEPLOYMENTS, REPLICASETS } from '../controllers/types.js';
import { buildTimeline, type Timeline } from './timeline.js';
import { LABEL_TRACE_POD_UID, PODTRACES, type PodTrace } from './types.js';

export type TraceClient = Pick<ApiClient, 'get' | 'list' | 'watch'>;
export type TraceKind = 'pod' | 'replicaset' | 'deployment';

/** The tree `trace deployment|replicaset` prints (a pod's is a single `pods` entry). */
export interface TraceTree {
  kind: TraceKind;
  name: string;
  namespace: string;
  replicaSets?: { name: string; uid: string; replicas: number; readyReplicas: number; revision?: string; pods: Timeline[] }[];
  pods?: Timeline[];
}

/** `po`, `pods`, `deploy`, `deployment.apps`, `rs`... → the kind; undefined for others. */
export function traceKind(word: string): TraceKind | undefined {
  const w = word.toLowerCase().replace(/\.apps$/, '');
  if (['po', 'pod', 'pods'].includes(w)) return 'pod';
  if (['rs', 'replicaset', 'replicasets'].includes(w)) return 'replicaset';
  if (['deploy', 'deployment', 'deployments'].includes(w)) return 'deployment';
  return undefined;
}

const ownedBy = (uid: string) => (o: KubeObject): boolean => !!o.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller);
const created = (o: KubeObject): number => Date.parse(o.metadata?.creationTimestamp ?? '') || 0;

/** The stored traces of one pod. */
export async function podTraces(client: TraceClient, pod: Pod): Promise<PodTrace[]> {
  const list = await client.list<PodTrace>({ ...PODTRACES, namespace: pod.metadata?.namespace }, { labelSelector: `${LABEL_TRACE_POD_UID}=${pod.metadata?.uid ?? ''}` });
  return list.items;
}

export async function podTimeline(client: TraceClient, pod: Pod): Promise<Timeline> {
  return buildTimeline(pod, await podTraces(client, pod));
}

async function getOrNotFound<T extends KubeObject>(client: TraceClient, ref: ResourceRef, name: string, what: string): Promise<T> {
  try {
    return await client.get<T>(ref, name);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new ApiError(404, 'NotFound', `${what} "${name}" not found`);
    throw e;
  }
}

/** Reads the tree of `kind/name` in `namespace` with every pod's timeline. 404 when the object is missing. */
export async function readTraceTree(client: TraceClient, kind: TraceKind, namespace: string, name: string): Promise<TraceTree> {
  const ns = (ref: ResourceRef): ResourceRef => ({ ...ref, namespace });
  if (kind === 'pod') {
    const pod = await getOrNotFound<Pod>(client, ns(PODS), name, 'pods');
    return { kind, name, namespace, pods: [await podTimeline(client, pod)] };
  }
  const pods = (await client.list<Pod>(ns(PODS))).items;
  const timelinesOf = async (rs: KubeObject) => Promise.all(pods.filter(ownedBy(rs.metadata?.uid ?? '')).sort((a, b) => created(a) - created(b)).map((p) => podTimeline(client, p)));
  type RS = KubeObject & { spec?: { replicas?: number }; status?: { readyReplicas?: number } };
  const entry = async (rs: RS) => ({
    name: rs.metadata?.name ?? '', uid: rs.metadata?.uid ?? '', replicas: rs.spec?.replicas ?? 0, readyReplicas: rs.status?.readyReplicas ?? 0,
    ...(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ? { revision: rs.metadata.annotations['deployment.kubernetes.io/revision'] } : {}),
    pods: await timelinesOf(rs),
  });
  if (kind === 'replicaset') {
    const rs = await getOrNotFound<RS>(client, ns(REPLICASETS), name, 'replicasets.apps');
    return { kind, name, namespace, replicaSets: [await entry(rs)] };
  }
  const d = await getOrNotFound<KubeObject>(client, ns(DEPLOYMENTS), name, 'deployments.apps');
  const sets = (await client.list<RS>(ns(REPLICASETS))).items.filter(ownedBy(d.metadata?.uid ?? '')).sort((a, b) => created(a) - created(b));
  return { kind, name, namespace, replicaSets: await Promise.all(sets.map(entry)) };
}
