/**
 * The resourcequota controller (Kubernetes' `resourcequota-controller`): keeps every quota's
 * `status.hard` (a copy of `spec.hard`) and `status.used` (what the namespace's objects the
 * quota's scopes match use, counted as the admission plugin counts) up to date. Keys are
 * quota keys; a change to a pod, service, ConfigMap, Secret or claim queues the quotas of its
 * namespace, and a periodic resync (Kubernetes' `--resource-quota-sync-period`, here 30 s by
 * default) catches the `count/<resource>.<group>` kinds it does not watch.
 */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import { formatQuantity } from '../api/quantity.js';
import { kindOfQuotaName, podIsTerminated, quotaMatches, sumUsage, usageOf, type Usage } from '../api/quota.js';
import { RESOURCES } from '../api/registry.js';
import type { KubeObject, Pod } from '../api/types.js';
import { CONFIGMAPS, PODS, SECRETS, SERVICES, type ResourceRef } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';

export const RESOURCE_QUOTAS: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas' };
const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };

type RQ = ResourceQuota & KubeObject;

export interface ResourceQuotaControllerOptions extends ControllerContext {
  /** How often every quota is recounted (default 30 s). */
  resyncMs?: number;
}

/** The quota's new status, from its spec and the namespace's usage (quantities in canonical form). */
export function quotaStatus(rq: ResourceQuota, used: Usage): NonNullable<ResourceQuota['status']> {
  const hard = rq.spec?.hard ?? {};
  return {
    hard: { ...hard },
    used: Object.fromEntries(Object.keys(hard).map((k) => [k, formatQuantity(used.get(k) ?? 0)])),
  };
}

export class ResourceQuotaController extends Controller {
  private readonly quotas = this.informer<RQ>(RESOURCE_QUOTAS);
  private readonly resyncMs: number;
  private timer?: ReturnType<typeof setInterval>;

  constructor(ctx: ResourceQuotaControllerOptions) {
    super('resourcequota-controller', ctx, { workers: 2, quiet: (e) => e instanceof ApiError && e.code === 409 });
    this.resyncMs = ctx.resyncMs ?? 30_000;
    this.quotas.addHandlers(this.enqueueHandlers());
    const byNamespace = (o: KubeObject) => this.enqueueNamespace(o.metadata?.namespace ?? '');
    this.informer<Pod & KubeObject>(PODS).addHandlers({
      onAdd: byNamespace,
      onDelete: byNamespace,
      // Only a pod's end changes what it is charged (its resources cannot change).
      onUpdate: (old, cur) => { if (podIsTerminated(old) !== podIsTerminated(cur)) byNamespace(cur); },
    });
    for (const ref of [SERVICES, CONFIGMAPS, SECRETS, PVCS]) {
      this.informer(ref).addHandlers({ onAdd: byNamespace, onDelete: byNamespace, onUpdate: (_o, cur) => byNamespace(cur) });
    }
  }

  private enqueueNamespace(namespace: string): void {
    for (const q of this.quotas.list()) if (q.metadata?.namespace === namespace) this.enqueue(q);
  }

  protected override onStart(): void {
    this.timer = setInterval(() => { for (const q of this.quotas.list()) this.enqueue(q); }, this.resyncMs);
    this.timer.unref?.();
  }

  protected override onStop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  protected async sync(key: string): Promise<void> {
    const rq = this.quotas.get(key);
    if (!rq || rq.metadata?.deletionTimestamp) return;
    const namespace = rq.metadata?.namespace ?? '';
    const names = Object.keys(rq.spec?.hard ?? {});
    const kinds = new Map<string, ResourceRef>();
    for (const n of names) {
      const k = kindOfQuotaName(n);
      const def = k && RESOURCES.find((d) => d.group === k.group && d.resource === k.resource && d.namespaced);
      if (def) kinds.set(`${def.group}/${def.resource}`, { group: def.group, version: def.version, resource: def.resource, namespace });
    }
    const usages: Usage[] = [];
    for (const ref of kinds.values()) {
      const list = await this.client.list(ref);
      for (const obj of list.items) if (quotaMatches(rq, ref.group, ref.resource, obj)) usages.push(usageOf(ref.group, ref.resource, obj));
    }
    const status = quotaStatus(rq, sumUsage(usages, names));
    if (JSON.stringify(status) === JSON.stringify({ hard: rq.status?.hard ?? {}, used: rq.status?.used ?? {} })) return;
    await this.client.updateStatus<RQ>({ ...RESOURCE_QUOTAS, namespace }, { ...rq, status });
  }
}
