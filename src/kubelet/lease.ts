/**
 * The node lease: each kubelet keeps a coordination.k8s.io/v1 Lease named after its node in
 * `kube-node-lease`, owned by the Node, renewed every heartbeat (10 s) with `renewTime` and a
 * 40 s `leaseDurationSeconds`, as Kubernetes' kubelet does. `kubectl describe node` shows its
 * holder and renew time; the lease is deleted with its Node by the garbage collector.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../api/errors.js';
import { LEASES, type ApiClient } from '../client/client.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const NODE_LEASE_DURATION_SECONDS = 40;

/** RFC 3339 with microseconds (Kubernetes' MicroTime). */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The lease as it should be after a renewal at `now` (created when `existing` is undefined). */
export function planLease(existing: Lease | undefined, node: { name: string; uid?: string }, now: Date): Lease {
  const owner = node.uid ? [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }] : undefined;
  const base: Lease = existing ?? {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name: node.name, namespace: NODE_LEASE_NAMESPACE, ...(owner ? { ownerReferences: owner } : {}) },
  };
  const ownerMissing = owner && !(base.metadata?.ownerReferences ?? []).some((r) => r.uid === node.uid);
  return {
    ...base,
    metadata: { ...base.metadata, ...(ownerMissing ? { ownerReferences: owner } : {}) },
    spec: { ...base.spec, holderIdentity: node.name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: microTime(now) },
  };
}

/** Creates or renews the node's lease (one read, one write; a conflict is retried next beat). */
export async function renewNodeLease(client: ApiClient, node: { name: string; uid?: string }, now: Date): Promise<void> {
  const ref = { ...LEASES, namespace: NODE_LEASE_NAMESPACE };
  let existing: Lease | undefined;
  try {
    existing = await client.get<Lease>(ref, node.name);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  const want = planLease(existing, node, now);
  if (existing) await client.update<Lease>(ref, want);
  else await client.create<Lease>(ref, want);
}
