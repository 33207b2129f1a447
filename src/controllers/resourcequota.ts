/**
 * The ResourceQuota controller (Kubernetes' `pkg/controller/resourcequota`): keeps each quota's
 * `status.hard` (its spec) and `status.used` (what the objects of its namespace use of each
 * tracked resource) up to date — at once on quota and pod changes, and every
 * {@link QUOTA_RESYNC_MS} for the other counted kinds. Admission does not read `status.used`
 * (it counts from the store), so a lagging status never lets an object through.
 */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import { RESOURCES } from '../api/registry.js';
import { addUsage, quotaUsed, usageOf } from '../api/resourcequota.js';
import type { Quantity } from '../api/quantity.js';
import type { KubeObject } from '../api/types.js';
import { PODS, RESOURCEQUOTAS } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
import { canonicalJson, keyOf, splitKey } from './podutil.js';
import { inNamespace, type PodObject } from './types.js';

export const QUOTA_RESYNC_MS = 15_000;
type QuotaObject = ResourceQuota & KubeObject;

/** The kind (group, resource) whose objects a quota resource name counts. */
export function kindOfQuotaResource(name: string): { group: string; resource: string } | undefined {
  if (['pods', 'cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'].includes(name)) return { group: '', resource: 'pods' };
  if (['services', 'secrets', 'configmaps', 'replicationcontrollers', 'resourcequotas', 'persistentvolumeclaims'].includes(name)) return { group: '', resource: name };
  if (name === 'requests.storage') return { group: '', resource: 'persistentvolumeclaims' };
  const m = /^count\/([a-z0-9-]+)(?:\.(.+))?$/.exec(name);
  return m ? { group: m[2] ?? '', resource: m[1] } : undefined;
}

export class ResourceQuotaController extends Controller {
  private readonly quotas;

  /** Workers default to Kubernetes' `--concurrent-resource-quota-syncs` (5). */
  constructor(ctx: ControllerContext) {
    super('resourcequota-controller', ctx, { workers: 5, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.quotas = this.informer<QuotaObject>(RESOURCEQUOTAS);
    this.quotas.addHandlers(this.enqueueHandlers());
    const byNamespace = (p: PodObject) => {
      for (const q of this.quotas.list()) if (q.metadata?.namespace === p.metadata?.namespace) this.enqueue(q);
    };
    this.informer<PodObject>(PODS).addHandlers({ onAdd: byNamespace, onUpdate: (_o, p) => byNamespace(p), onDelete: byNamespace });
  }

  protected async sync(key: string): Promise<void> {
    const rq = this.quotas.get(key);
    if (!rq) return;
    const { namespace } = splitKey(key);
    const usage: Record<string, Quantity> = {};
    const kinds = new Map<string, { group: string; resource: string }>();
    for (const k of Object.keys(rq.spec?.hard ?? {})) {
      const kind = kindOfQuotaResource(k);
      if (kind) kinds.set(`${kind.group}/${kind.resource}`, kind);
    }
    for (const { group, resource } of kinds.values()) {
      const def = RESOURCES.find((d) => d.group === group && d.resource === resource && d.namespaced);
      if (!def) continue;
      const list = await this.client.list<KubeObject>(inNamespace({ group, version: def.version, resource }, namespace));
      for (const obj of list.items) addUsage(usage, usageOf(group, resource, obj));
    }
    const status = { hard: { ...(rq.spec?.hard ?? {}) }, used: quotaUsed(rq, usage) };
    if (canonicalJson(status) !== canonicalJson(rq.status ?? {})) {
      try {
        await this.client.updateStatus(inNamespace(RESOURCEQUOTAS, namespace), { ...rq, status });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    this.queue.addAfter(keyOf(rq), QUOTA_RESYNC_MS);
  }
}
