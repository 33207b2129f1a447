/**
 * The pod event handlers every pod-owning controller needs (Kubernetes' `addPod`/`updatePod`/
 * `deletePod` of the ReplicaSet, Job, DaemonSet and StatefulSet controllers): they only work
 * out which owner keys to enqueue — through the pod's controller reference, or, for orphans,
 * every owner whose selector matches — and record creations and deletions the owner expects.
 */
import type { KubeObject, OwnerReference } from '../api/types.js';
import type { Informer, InformerHandlers } from '../client/informer.js';
import type { Expectations } from './expectations.js';
import { canonicalJson, controllerRef, keyOf } from './podutil.js';
import type { PodObject } from './types.js';

export interface OwnedPodOptions<O extends KubeObject> {
  /** The owner kind (`Job`) and API group (`batch`; '' for core) its controller references carry. */
  kind: string;
  group: string;
  owners: Informer<O>;
  enqueue: (key: string) => void;
  expectations?: Expectations;
  /** Owners that would adopt this orphan (their selector matches); none when omitted. */
  selecting?: (pod: PodObject) => O[];
  /** Extra work on an update of an owned pod (e.g. a delayed re-sync for minReadySeconds). */
  onOwnedUpdate?: (old: PodObject, cur: PodObject, owner: O) => void;
  /** A pod whose controller is of this kind but not in the cache (e.g. to release a finalizer). */
  onOrphaned?: (pod: PodObject) => void;
}

/** The cached owner a controller reference points to, if it is still that object. */
export function resolveOwner<O extends KubeObject>(owners: Informer<O>, kind: string, group: string, namespace: string | undefined, ref: OwnerReference | undefined): O | undefined {
  if (!ref || ref.kind !== kind) return undefined;
  const refGroup = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  if (refGroup !== group) return undefined;
  const owner = owners.get(namespace ? `${namespace}/${ref.name}` : ref.name);
  return owner?.metadata?.uid === ref.uid ? owner : undefined;
}

/** Handlers for a pod informer that enqueue the owners of `opts.kind`. */
export function ownedPodHandlers<O extends KubeObject>(opts: OwnedPodOptions<O>): InformerHandlers<PodObject> {
  const resolve = (pod: PodObject, ref = controllerRef(pod)): O | undefined => {
    const owner = resolveOwner(opts.owners, opts.kind, opts.group, pod.metadata?.namespace, ref);
    if (!owner && ref && ref.kind === opts.kind) opts.onOrphaned?.(pod);
    return owner;
  };
  const deleted = (pod: PodObject): void => {
    const owner = resolve(pod);
    if (!owner) return;
    opts.expectations?.deletionObserved(keyOf(owner), keyOf(pod));
    opts.enqueue(keyOf(owner));
  };
  return {
    onAdd: (pod) => {
      if (pod.metadata?.deletionTimestamp) {
        // Seen for the first time already being deleted (e.g. after a restart): a deletion.
        deleted(pod);
        return;
      }
      const ref = controllerRef(pod);
      if (ref) {
        const owner = resolve(pod, ref);
        if (!owner) return;
        opts.expectations?.creationObserved(keyOf(owner));
        opts.enqueue(keyOf(owner));
        return;
      }
      for (const o of opts.selecting?.(pod) ?? []) opts.enqueue(keyOf(o));
    },
    onUpdate: (old, cur) => {
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
      const labelsChanged = canonicalJson(old.metadata?.labels) !== canonicalJson(cur.metadata?.labels);
      if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
        // A graceful delete shows first as an update; the owner may replace the pod now.
        deleted(cur);
        if (labelsChanged) deleted(old);
        return;
      }
      const oldRef = controllerRef(old);
      const curRef = controllerRef(cur);
      const refChanged = oldRef?.uid !== curRef?.uid;
      if (refChanged && oldRef) {
        const o = resolve(old, oldRef);
        if (o) opts.enqueue(keyOf(o));
      }
      if (curRef) {
        const o = resolve(cur, curRef);
        if (!o) return;
        opts.enqueue(keyOf(o));
        opts.onOwnedUpdate?.(old, cur, o);
        return;
      }
      if (labelsChanged || refChanged) for (const o of opts.selecting?.(cur) ?? []) opts.enqueue(keyOf(o));
    },
    onDelete: deleted,
  };
}
