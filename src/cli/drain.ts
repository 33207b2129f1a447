/**
 * Draining a node as `kubectl drain` does (`k8s.io/kubectl/pkg/drain`): cordon it, pick the
 * pods to evict with kubectl's filters, evict each through the `pods/eviction` subresource —
 * so PodDisruptionBudgets are honoured: a 429 is retried every 5 s, as kubectl does, until
 * the budget allows it or the timeout passes — and wait (on a watch) until they are gone.
 * Used by `minikube-lite drain` and by `node delete`.
 */
import { ApiError } from '../api/errors.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import { NODES, PODS, type ApiClient } from '../client/client.js';
import { CliError } from './context.js';

type Out = (line: string) => void;
type PodObject = Pod & KubeObject;
/** The API calls a drain makes. */
export type DrainClient = Pick<ApiClient, 'list' | 'watch' | 'createSubresource' | 'patch' | 'get'>;

export interface DrainOptions {
  /** Leave DaemonSet pods (kubectl: else refuse). */
  ignoreDaemonSets: boolean;
  /** Evict pods with emptyDir volumes, losing the data (kubectl: else refuse). */
  deleteEmptyDirData: boolean;
  /** Evict pods no controller manages (kubectl: else refuse). */
  force: boolean;
  /** Overall limit; 0 = wait for ever (kubectl's default). */
  timeoutMs: number;
  /** The evictions' grace period; undefined = each pod's own. */
  gracePeriodSeconds?: number;
  /** Pause between two tries of an eviction the budget refused (kubectl: 5 s). */
  retryMs?: number;
}

export interface DrainPlan {
  evict: PodObject[];
  /** Lines kubectl prints as `Warning: ignoring DaemonSet-managed Pods: …` and the like. */
  warnings: string[];
  /** Why the drain cannot go on (kubectl's "cannot delete …" errors), if any. */
  errors: string[];
}

const key = (p: Pod): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
const controllerOf = (p: Pod) => (p.metadata?.ownerReferences ?? []).find((o) => o.controller);
const isMirror = (p: Pod): boolean => !!p.metadata?.annotations?.['kubernetes.io/config.mirror'];
const finished = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/**
 * kubectl's pod filters (`GetPodsForDeletion`): mirror pods are skipped; DaemonSet pods are
 * skipped with `ignoreDaemonSets`, else refused; pods with emptyDir refused without
 * `deleteEmptyDirData`; pods without a controller refused without `force` (finished pods
 * always go). Pods already being deleted are left to finish.
 */
export function planDrain(pods: readonly PodObject[], o: Pick<DrainOptions, 'ignoreDaemonSets' | 'deleteEmptyDirData' | 'force'>): DrainPlan {
  const evict: PodObject[] = [];
  const daemon: string[] = [];
  const daemonRefused: string[] = [];
  const local: string[] = [];
  const localRefused: string[] = [];
  const unmanaged: string[] = [];
  const unmanagedRefused: string[] = [];
  for (const p of pods) {
    if (isMirror(p) || p.metadata?.deletionTimestamp) continue;
    const ctl = controllerOf(p);
    if (ctl?.kind === 'DaemonSet' && !finished(p)) {
      (o.ignoreDaemonSets ? daemon : daemonRefused).push(key(p));
      continue;
    }
    if (!ctl && !finished(p)) {
      if (!o.force) { unmanagedRefused.push(key(p)); continue; }
      unmanaged.push(key(p));
    }
    if ((p.spec?.volumes ?? []).some((v) => v.emptyDir) && !finished(p)) {
      if (!o.deleteEmptyDirData) { localRefused.push(key(p)); continue; }
      local.push(key(p));
    }
    evict.push(p);
  }
  const errors: string[] = [];
  if (unmanagedRefused.length) errors.push(`cannot delete Pods that declare no controller (use --force to override): ${unmanagedRefused.join(', ')}`);
  if (daemonRefused.length) errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${daemonRefused.join(', ')}`);
  if (localRefused.length) errors.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${localRefused.join(', ')}`);
  const warnings: string[] = [];
  if (unmanaged.length) warnings.push(`deleting Pods that declare no controller: ${unmanaged.join(', ')}`);
  if (daemon.length) warnings.push(`ignoring DaemonSet-managed Pods: ${daemon.join(', ')}`);
  if (local.length) warnings.push(`deleting Pods with local storage: ${local.join(', ')}`);
  return { evict, warnings, errors };
}

/**
 * Evicts one pod, retrying while its budget refuses (429) until `deadline` (ms, 0 = none).
 * Resolves once the eviction was accepted or the pod is gone; throws a CliError at the deadline
 * with the last refusal, and passes other API errors on.
 */
export async function evictWithRetries(client: DrainClient, pod: PodObject, deadline: number, out: Out, retryMs = 5000, gracePeriodSeconds?: number): Promise<void> {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const body = {
    apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns },
    ...(gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds } } : {}),
  };
  for (;;) {
    try {
      await client.createSubresource({ ...PODS, namespace: ns }, name, 'eviction', body);
      out(`evicting pod ${ns}/${name}`);
      return;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      if (!(e instanceof ApiError && e.code === 429)) throw e;
      if (deadline && Date.now() + retryMs > deadline) {
        throw new CliError(`pod ${ns}/${name} could not be evicted before the timeout: ${e.message}`);
      }
      out(`error when evicting pods/"${name}" -n "${ns}" (will retry after ${retryMs / 1000}s): ${e.message}`);
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
}

/**
 * Waits, on a watch of the node's pods, until none of `pods` (by uid) is left; resolves to the
 * keys of those still there at `deadline` (0 = none).
 */
export async function waitForDeletion(client: DrainClient, node: string, pods: readonly PodObject[], deadline: number): Promise<string[]> {
  const fieldSelector = `spec.nodeName=${node}`;
  const list = await client.list<PodObject>(PODS, { fieldSelector });
  const present = new Set(list.items.map((p) => p.metadata?.uid));
  const remaining = new Map(pods.filter((p) => present.has(p.metadata?.uid)).map((p) => [p.metadata?.uid ?? '', key(p)]));
  if (remaining.size === 0) return [];
  return new Promise((resolve, reject) => {
    const timer = deadline ? setTimeout(() => { h.stop(); resolve([...remaining.values()]); }, Math.max(0, deadline - Date.now())) : undefined;
    const h = client.watch<PodObject>(PODS, { fieldSelector, resourceVersion: list.metadata?.resourceVersion }, (e) => {
      if (e.type !== 'DELETED') return;
      remaining.delete(e.object.metadata?.uid ?? '');
      if (remaining.size === 0) {
        clearTimeout(timer);
        h.stop();
        resolve([]);
      }
    });
    h.done.then(() => {
      // The server ended the watch (its timeout): look again from a fresh list.
      if (remaining.size === 0) return;
      clearTimeout(timer);
      waitForDeletion(client, node, pods.filter((p) => remaining.has(p.metadata?.uid ?? '')), deadline).then(resolve, reject);
    }, (err: unknown) => { clearTimeout(timer); reject(err); });
  });
}

/** Marks the node unschedulable (or schedulable again); false when it does not exist. */
export async function cordon(client: DrainClient, node: string, unschedulable: boolean): Promise<'changed' | 'unchanged' | 'missing'> {
  try {
    const cur = await client.get<Node & KubeObject>(NODES, node);
    if (!!cur.spec?.unschedulable === unschedulable) return 'unchanged';
    await client.patch(NODES, node, { spec: { unschedulable: unschedulable ? true : null } });
    return 'changed';
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return 'missing';
    throw e;
  }
}

/**
 * Cordons `node` and evicts its pods (see {@link planDrain}), every eviction honouring its
 * budget, then waits until they are gone. A CliError names what is left at the timeout; the
 * node then stays cordoned, as after an interrupted `kubectl drain`.
 */
export async function drainNode(client: DrainClient, node: string, o: DrainOptions, out: Out): Promise<void> {
  const deadline = o.timeoutMs > 0 ? Date.now() + o.timeoutMs : 0;
  const c = await cordon(client, node, true);
  if (c === 'missing') throw new CliError(`nodes "${node}" not found`);
  out(`node/${node} ${c === 'changed' ? 'cordoned' : 'already cordoned'}`);
  const pods = (await client.list<PodObject>(PODS, { fieldSelector: `spec.nodeName=${node}` })).items;
  const plan = planDrain(pods, o);
  if (plan.errors.length) throw new CliError(`unable to drain node "${node}" due to error: ${plan.errors.join(', ')}`);
  for (const w of plan.warnings) out(`Warning: ${w}`);
  await Promise.all(plan.evict.map((p) => evictWithRetries(client, p, deadline, out, o.retryMs, o.gracePeriodSeconds)));
  const left = await waitForDeletion(client, node, plan.evict, deadline);
  if (left.length) {
    throw new CliError(`drain of node "${node}" timed out after ${Math.round(o.timeoutMs / 1000)}s: still terminating: ${left.join(', ')}; the node stays cordoned`);
  }
  for (const p of plan.evict) out(`pod/${p.metadata?.name ?? ''} evicted`);
  out(`node/${node} drained`);
}
