/**
 * Trace records: what each component did for one pod, written by the component itself as it
 * acts, numbered by the seed's seven steps (README "It follows the path of a Pod"):
 *
 *   1 API server accepts the pod · 2 watchers see it · 3 a controller creates replicas ·
 *   4 the scheduler picks a node and binds · 5 the node's kubelet has the runtime pull images
 *   and start the sandbox and containers · 6 health checks · 7 status back to the API server.
 *
 * Stored as `PodTrace` objects (`trace.minikube-lite.io/v1alpha1`, namespaced, one object per
 * flush of one component for one pod), labelled with the pod's uid and name.
 */
import type { KubeObject } from '../api/types.js';
import type { ResourceRef } from '../client/client.js';

export type SeedStep = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** What each seed step is called in timelines. */
export const STEP_TITLES: Readonly<Record<SeedStep, string>> = {
  1: 'API server accepts',
  2: 'watchers see it',
  3: 'controller makes replicas',
  4: 'scheduler picks a node',
  5: 'kubelet + runtime start it',
  6: 'health checks',
  7: 'status flows back',
};

/** A structured value of a record (kept small: plain JSON scalars, arrays and maps of them). */
export type TraceValue = string | number | boolean | null | TraceValue[] | { [k: string]: TraceValue };

/** One thing a component did for a pod. */
export interface TraceRecord {
  /** When it happened, RFC 3339 with milliseconds (`2026-01-01T10:00:00.123Z`). */
  time: string;
  step: SeedStep;
  /** Who did it: `kube-apiserver`, `replicaset-controller`, `default-scheduler`, `kubelet`, `runtime`. */
  component: string;
  /** The node, for kubelet and runtime records (and the scheduler's choice). */
  node?: string;
  /** A short CamelCase verb: `Created`, `Scheduled`, `Bound`, `ImageChecked`, `SandboxStarted`, ... */
  action: string;
  /** One line a learner can read. */
  message: string;
  /** How long the action took, when it has a duration. */
  durationMs?: number;
  /** Structured details (the scheduler's per-node reasons and scores, the runtime's own timestamps). */
  fields?: Record<string, TraceValue>;
}

/** The pod a record belongs to. */
export interface TracedPod {
  namespace: string;
  name: string;
  uid: string;
}

/** A stored batch of records of one pod from one component. */
export interface PodTrace extends KubeObject {
  pod: TracedPod;
  records: TraceRecord[];
}

export const TRACE_GROUP = 'trace.minikube-lite.io';
export const TRACE_VERSION = 'v1alpha1';
export const PODTRACES: ResourceRef = { group: TRACE_GROUP, version: TRACE_VERSION, resource: 'podtraces' };
/** Label holding the traced pod's uid (select a pod's traces with it). */
export const LABEL_TRACE_POD_UID = 'trace.minikube-lite.io/pod-uid';
/** Label holding the traced pod's name. */
export const LABEL_TRACE_POD_NAME = 'trace.minikube-lite.io/pod-name';
/** Most records one PodTrace may hold (validation refuses more). */
export const MAX_RECORDS_PER_OBJECT = 256;

/** RFC 3339 with milliseconds, UTC. */
export const traceTime = (d: Date): string => d.toISOString();
