/**
 * The dashboard's data layer, shared by the browser app and the unit tests: the cluster as the
 * watches deliver it (one store of objects per kind, updated by each watch event) and the
 * views the page draws from it (node boxes with their pods, Services with endpoints, rollouts,
 * a pod's timeline and events). Pure apart from {@link watchStream}, which reads one watch
 * (ndjson over fetch) and resumes it from the last resourceVersion when it ends.
 */
import type { Deployment, Endpoints, Event, KubeObject, Node, Pod, ReplicaSet, Service, WatchEvent } from '../api/types.js';
import { buildTimeline, type Timeline } from '../trace/timeline.js';
import type { PodTrace } from '../trace/types.js';

/** The kinds the dashboard watches, by the API path of their all-namespace collection. */
export const WATCHED = {
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  services: '/api/v1/services',
  endpoints: '/api/v1/endpoints',
  deployments: '/apis/apps/v1/deployments',
  replicasets: '/apis/apps/v1/replicasets',
  events: '/api/v1/events',
  traces: '/apis/trace.minikube-lite.io/v1alpha1/podtraces',
} as const;
export type WatchedKind = keyof typeof WATCHED;

export interface ClusterState {
  nodes: Map<string, Node>;
  pods: Map<string, Pod>;
  services: Map<string, Service>;
  endpoints: Map<string, Endpoints>;
  deployments: Map<string, Deployment>;
  replicasets: Map<string, ReplicaSet>;
  events: Map<string, Event>;
  traces: Map<string, PodTrace>;
}

export function emptyState(): ClusterState {
  return { nodes: new Map(), pods: new Map(), services: new Map(), endpoints: new Map(), deployments: new Map(), replicasets: new Map(), events: new Map(), traces: new Map() };
}

export const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Applies one watch event to the kind's store; returns whether anything changed. */
export function applyEvent(state: ClusterState, kind: WatchedKind, e: WatchEvent): boolean {
  const store = state[kind] as Map<string, KubeObject>;
  if (e.type === 'ADDED' || e.type === 'MODIFIED') {
    store.set(keyOf(e.object), e.object);
    return true;
  }
  if (e.type === 'DELETED') return store.delete(keyOf(e.object));
  return false;
}

export interface ContainerView {
  name: string;
  state: string;
  ready: boolean;
  restarts: number;
}

export interface PodView {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  phase: string;
  ready: boolean;
  /** `1/2` */
  readyCount: string;
  ip: string;
  node: string;
  containers: ContainerView[];
  deleting: boolean;
}

export function podView(p: Pod): PodView {
  const statuses = p.status?.containerStatuses ?? [];
  const containers = (p.spec?.containers ?? []).map((c) => {
    const s = statuses.find((x) => x.name === c.name);
    const state = s?.state?.running ? 'running' : s?.state?.terminated ? `terminated (${s.state.terminated.reason ?? ''})` : s?.state?.waiting ? `waiting (${s.state.waiting.reason ?? ''})` : 'waiting';
    return { name: c.name, state, ready: s?.ready === true, restarts: s?.restartCount ?? 0 };
  });
  return {
    key: keyOf(p), namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '',
    phase: p.metadata?.deletionTimestamp ? 'Terminating' : p.status?.phase ?? 'Pending',
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    readyCount: `${containers.filter((c) => c.ready).length}/${containers.length}`,
    ip: p.status?.podIP ?? '', node: p.spec?.nodeName ?? '', containers, deleting: !!p.metadata?.deletionTimestamp,
  };
}

export interface NodeBox {
  name: string;
  ready: boolean;
  podCIDR: string;
  pods: PodView[];
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** One box per node with the pods bound to it, plus `(unscheduled)` when pods wait for a node. */
export function nodeBoxes(s: ClusterState): NodeBox[] {
  const boxes = [...s.nodes.values()].map((n) => ({
    name: n.metadata?.name ?? '',
    ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    podCIDR: n.spec?.podCIDR ?? '',
    pods: [] as PodView[],
  })).sort(byName);
  const pending: PodView[] = [];
  for (const p of s.pods.values()) {
    const v = podView(p);
    const box = boxes.find((b) => b.name === v.node);
    (box ? box.pods : pending).push(v);
  }
  for (const b of boxes) b.pods.sort(byName);
  if (pending.length) boxes.push({ name: '(unscheduled)', ready: false, podCIDR: '', pods: pending.sort(byName) });
  return boxes;
}

export interface ServiceView {
  key: string;
  name: string;
  namespace: string;
  type: string;
  clusterIP: string;
  ports: string;
  /** `10.244.1.7:80` of each ready address, then `(not ready)` ones marked. */
  endpoints: string[];
}

export function serviceViews(s: ClusterState): ServiceView[] {
  return [...s.services.values()].map((svc) => {
    const ep = s.endpoints.get(keyOf(svc));
    const endpoints = (ep?.subsets ?? []).flatMap((sub) => {
      const ports = (sub.ports ?? []).map((p) => p.port);
      const fmt = (ip: string) => (ports.length ? ports.map((p) => `${ip}:${p}`) : [ip]);
      return [...(sub.addresses ?? []).flatMap((a) => fmt(a.ip)), ...(sub.notReadyAddresses ?? []).flatMap((a) => fmt(a.ip).map((x) => `${x} (not ready)`))];
    });
    return {
      key: keyOf(svc), name: svc.metadata?.name ?? '', namespace: svc.metadata?.namespace ?? '', type: svc.spec?.type ?? 'ClusterIP',
      clusterIP: svc.spec?.clusterIP ?? '', ports: (svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(','), endpoints,
    };
  }).sort((a, b) => a.key.localeCompare(b.key));
}

export interface RolloutView {
  key: string;
  name: string;
  namespace: string;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** Progressing condition's reason and message. */
  progress: string;
  replicaSets: { name: string; revision: string; desired: number; ready: number; pods: number }[];
}

export function rolloutViews(s: ClusterState): RolloutView[] {
  return [...s.deployments.values()].map((d) => {
    const uid = d.metadata?.uid;
    const sets = [...s.replicasets.values()].filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller));
    const cond = d.status?.conditions?.find((c) => c.type === 'Progressing');
    return {
      key: keyOf(d), name: d.metadata?.name ?? '', namespace: d.metadata?.namespace ?? '',
      desired: d.spec?.replicas ?? 1, updated: d.status?.updatedReplicas ?? 0, ready: d.status?.readyReplicas ?? 0, available: d.status?.availableReplicas ?? 0,
      progress: cond ? `${cond.reason ?? ''}: ${cond.message ?? ''}` : '',
      replicaSets: sets.map((rs) => ({
        name: rs.metadata?.name ?? '', revision: rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '',
        desired: rs.spec?.replicas ?? 0, ready: rs.status?.readyReplicas ?? 0,
        pods: [...s.pods.values()].filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === rs.metadata?.uid)).length,
      })).sort((a, b) => Number(b.revision) - Number(a.revision)),
    };
  }).sort((a, b) => a.key.localeCompare(b.key));
}

/** The pod's trace timeline from the traces watched so far. */
export function podTimelineOf(s: ClusterState, pod: Pod): Timeline {
  const uid = pod.metadata?.uid;
  return buildTimeline(pod, [...s.traces.values()].filter((t) => t.pod?.uid === uid));
}

/** The pod's events, oldest first. */
export function podEvents(s: ClusterState, pod: Pod): Event[] {
  const uid = pod.metadata?.uid;
  const when = (e: Event) => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '') || 0;
  return [...s.events.values()].filter((e) => e.involvedObject?.uid === uid).sort((a, b) => when(a) - when(b));
}

type Fetch = (input: string, init?: { signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; body: ReadableStream<Uint8Array> | null }>;

/**
 * Keeps one watch open: lists by watching without a resourceVersion (the server replays the
 * current objects as ADDED), then resumes from the last resourceVersion whenever the stream
 * ends; a 410 Gone (or an ERROR event) starts over with `onReset` so stale objects go.
 * Returns the stop function.
 */
export function watchStream(fetchFn: Fetch, path: string, onEvent: (e: WatchEvent) => void,
  opts: { onReset?: () => void; onError?: (e: unknown) => void; onOpen?: () => void; retryMs?: number } = {}): () => void {
  const ctrl = new AbortController();
  let rv = '';
  const run = async (): Promise<void> => {
    while (!ctrl.signal.aborted) {
      try {
        const q = `?watch=true&allowWatchBookmarks=true${rv ? `&resourceVersion=${encodeURIComponent(rv)}` : ''}`;
        const res = await fetchFn(path + q, { signal: ctrl.signal });
        if (res.status === 410) {
          rv = '';
          opts.onReset?.();
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`watch ${path}: HTTP ${res.status}`);
        opts.onOpen?.();
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        let reset = false;
        while (!reset) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const e = JSON.parse(line) as WatchEvent;
            if (e.type === 'ERROR') {
              // Usually 410 Gone: the resourceVersion is too old. Start over from a fresh list.
              rv = '';
              opts.onReset?.();
              reset = true;
              await reader.cancel();
              break;
            }
            const v = e.object?.metadata?.resourceVersion;
            if (v) rv = v;
            if (e.type !== 'BOOKMARK') onEvent(e);
          }
        }
      } catch (err) {
        if (ctrl.signal.aborted) return;
        opts.onError?.(err);
        await new Promise((r) => setTimeout(r, opts.retryMs ?? 1000));
      }
    }
  };
  void run();
  return () => ctrl.abort();
}
