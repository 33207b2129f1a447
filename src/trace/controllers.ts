/** The controllers' part of the trace: a ReplicaSet decided to create a pod (step 3) and saw it arrive (step 2). */
import type { KubeObject, Pod } from '../api/types.js';
import type { Tracer } from './recorder.js';

/**
 * The ReplicaSet controller created `pod` for `rs` (one of `count` it found missing). `decided`
 * is when it chose to (before the create), so the record comes before the API server's.
 */
export function traceReplicaCreated(tracer: Tracer, pod: Pod, rs: KubeObject & { spec?: { replicas?: number } }, count: number, decided: Date): void {
  const want = rs.spec?.replicas ?? 1;
  tracer.record(pod, {
    step: 3, action: 'ReplicaCreated', at: decided, component: 'replicaset-controller',
    message: `ReplicaSet ${rs.metadata?.name ?? ''} wants ${want}, ${count} missing → created pod ${pod.metadata?.name ?? ''}`,
    fields: { owner: `ReplicaSet/${rs.metadata?.name ?? ''}`, replicas: want, missing: count },
  });
}

/** A controller's informer delivered a pod it owns (the watch confirming its create). */
export function traceOwnerSaw(tracer: Tracer, pod: Pod, component: string, ownerKind: string): void {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller);
  // Only a pod not yet bound: a re-list after a restart should not claim to see old pods arrive.
  if (!ref || ref.kind !== ownerKind || pod.spec?.nodeName) return;
  tracer.record(pod, { step: 2, action: 'Seen', component, message: `${component} saw its pod (watch ADDED; expectation met for ${ownerKind} ${ref.name})` });
}
